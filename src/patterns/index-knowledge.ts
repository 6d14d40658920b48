/** The knowledge patterns (RAG, context-window management, ReAct) and the retrieval layer they stand on. */
export * from "../retrieval/index.ts";
export { RagState, RetrievedPassageSchema, createRagGraph } from "./rag.ts";
export type { RagOptions, RetrievedPassage } from "./rag.ts";
export { ContextWindowError, countTokens, fitToWindow, pruneByRelevance, slidingWindow, summarizeHierarchically } from "./context-window.ts";
export type { FitToWindowOptions, PruneOptions, Pruned, SlidingWindowOptions, SummarizeOptions, TokenCountOptions, TokenEncoding, WindowFit } from "./context-window.ts";
export { createReActGraph } from "./react.ts";
export type { ReActOptions } from "./react.ts";
