import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError } from "../errors.ts";
import { extractCitations } from "../graph/citations.ts";
import type { PassageIndex } from "../retrieval/passage-index.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { countTokens, pruneByRelevance } from "./context-window.ts";
import type { TokenEncoding } from "./context-window.ts";

/** A passage the search returned, with its cosine similarity to the question. */
export const RetrievedPassageSchema = z.object({ id: z.string(), documentId: z.string(), title: z.string(), text: z.string(), score: z.number() });
export type RetrievedPassage = z.infer<typeof RetrievedPassageSchema>;

/** The state of a RAG run: what was retrieved, what fitted the prompt, and the cited answer. */
export const RagState = new StateSchema({
  question: z.string(),
  /** Every passage the search returned, best first. */
  retrieved: z.array(RetrievedPassageSchema).default(() => []),
  /** Ids of the passages put in the prompt, best first: the ones that fitted `tokenBudget`. */
  context: z.array(z.string()).default(() => []),
  /** Tokens the prompt's sources take (at most `tokenBudget`). */
  contextTokens: z.number().int().default(0),
  /** What the model was asked: the sources, each tagged `[doc#chunk]`, and the question. */
  prompt: z.string().default(""),
  answer: z.string().default(""),
  /** The answer's citations: only passages that were in the prompt. */
  citations: z.array(z.object({ source: z.string(), text: z.string() })).default(() => []),
  /** Citations the model made of sources it was never shown, removed from the answer. */
  removedCitations: z.array(z.string()).default(() => []),
});
type State = typeof RagState.State;

export interface RagOptions {
  /** The passage index to search: one you built (`ingestFolder`, `createPassageIndex`) or a lazy one (`corpusIndex`), built on first use. */
  index: PassageIndex | (() => Promise<PassageIndex>);
  /** Passages retrieved per question (default 4). */
  k?: number;
  /** Most tokens the sources may take in the prompt (default 1,000); the least relevant are dropped first. */
  tokenBudget?: number;
  /** Default: the run's model. */
  model?: BaseChatModel;
  /** The answering agent's system prompt. */
  instructions?: string;
  /** Tokenizer to count the budget with (default "cl100k_base"). */
  encoding?: TokenEncoding;
}

const OptionsSchema = z.object({
  index: z.custom<RagOptions["index"]>((value) => typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as PassageIndex).search === "function"), "must be a PassageIndex or a function returning one (ingestFolder, corpusIndex)"),
  k: z.number().int().min(1).max(50).default(4),
  tokenBudget: z.number().int().min(16).default(1_000),
  instructions: z.string().min(1).optional(),
  encoding: z.enum(["cl100k_base", "o200k_base"]).optional(),
});

const DEFAULT_INSTRUCTIONS = [
  "Answer the question using only the sources in the request. Each source starts with its id in square brackets.",
  "After every sentence that uses a source, cite it by that id, e.g. [guide#2]. If the sources do not answer the question, say so.",
].join(" ");

/** One line per source: its id, then its text with Markdown headings turned into lead-ins ("Joining: To join, …"). */
const render = (passage: RetrievedPassage) => `[${passage.id}] ${passage.text.replace(/^#{1,6}\s+(.+)$/gm, "$1:").replace(/\s+/g, " ").trim()}`;

/**
 * Retrieval-augmented generation: `retrieve` embeds the question and searches the hnswlib index
 * for `k` passages; `fit` ranks them and keeps the best that fit `tokenBudget` (counted with
 * tiktoken by `pruneByRelevance`), each tagged `[doc#chunk]`; `generate` asks the model (a Conclave
 * agent, so the call is observed, budgeted and cached) and keeps only citations of passages that
 * were in the prompt — any other `[id]` is removed from the answer and reported.
 *
 * Reuses: the passage index of `src/retrieval` (hnswlib-node, on-disk cache), `createAgentGraph`
 * for the model call, `extractCitations`, `pruneByRelevance`, `observeNode` and `reportEvent`.
 *
 * @example
 * const index = await ingestFolder("docs", { chunkSize: 500, chunkOverlap: 80, embeddings: new OfflineEmbeddings() });
 * const { state } = await run(createRagGraph({ index, k: 4, tokenBudget: 600 }), { question: "How long is the loan period?" });
 * state.answer; state.citations;
 */
export function createRagGraph(options: RagOptions) {
  const parsed = OptionsSchema.safeParse(options ?? {});
  if (!parsed.success) throw new DefinitionError(`Invalid RAG options: ${z.prettifyError(parsed.error)}. Pass { index, k?, tokenBudget?, model? }.`);
  const { k, tokenBudget, encoding, instructions = DEFAULT_INSTRUCTIONS } = parsed.data;
  const indexOf = lazy(options.index);
  const answerer = createAgentGraph(defineAgent({ name: "rag", instructions, tools: [], maxSteps: 1, ...(options.model ? { model: options.model } : {}) }));

  const retrieve = async (state: State) => {
    const hits = await (await indexOf()).search(state.question, k);
    return { retrieved: hits.map(({ id, documentId, title, text, score }) => ({ id, documentId, title, text, score })) };
  };

  const fit = (state: State, config: LangGraphRunnableConfig) => {
    // The search's similarity is the relevance: pruning keeps its order and drops from the bottom.
    const pruned = pruneByRelevance(state.retrieved, state.question, { budget: tokenBudget, relevance: (passage) => passage.score, render, separator: "\n", ...(encoding ? { encoding } : {}) });
    const sources = pruned.kept.length ? pruned.context : "(no sources)";
    const dropped = pruned.dropped.length ? `; dropped ${pruned.dropped.map((passage) => passage.id).join(", ")}, the least relevant, to stay within ${tokenBudget} tokens` : "";
    reportEvent(config, { type: "decision", by: "rag", next: "generate", reason: `${pruned.kept.length} of ${state.retrieved.length} passages in the prompt (${pruned.tokens} tokens ≤ ${tokenBudget})${dropped}` });
    if (state.retrieved.length && !pruned.kept.length) {
      const smallest = Math.min(...state.retrieved.map((passage) => countTokens(render(passage), encoding ? { encoding } : {})));
      reportEvent(config, { type: "warning", message: `No retrieved passage fits tokenBudget ${tokenBudget} (the smallest needs ${smallest} tokens). Raise tokenBudget or ingest with a smaller chunkSize.` });
    }
    return { context: pruned.kept.map((passage) => passage.id), contextTokens: pruned.tokens, prompt: `Question: ${state.question}\n\nSources:\n${sources}` };
  };

  const generate = async (state: State, config: LangGraphRunnableConfig) => {
    const result = await answerer.invoke({ messages: [new HumanMessage(state.prompt)] }, config);
    const text = result.messages.at(-1)?.text ?? "";
    // A citation counts only if the model was shown that passage (or cites its document by id).
    const shown = new Set(state.context.flatMap((id) => [id, state.retrieved.find((passage) => passage.id === id)!.documentId]));
    const removed = [...new Set(extractCitations(text).map((citation) => citation.source).filter((source) => !shown.has(source)))];
    const cleaned = removed.length ? text.replace(/\[([\w][\w:./#-]{0,120})\]/g, (marker, id: string) => (removed.includes(id) ? "" : marker)).replace(/[ \t]+([.,;!?])/g, "$1").replace(/[ \t]{2,}/g, " ").trim() : text;
    if (removed.length) reportEvent(config, { type: "decision", by: "rag", next: "finish", reason: `removed citations of ${removed.map((id) => `[${id}]`).join(", ")}: not among the passages in the prompt` });
    return { answer: cleaned, citations: extractCitations(cleaned), removedCitations: removed };
  };

  const graph = new StateGraph(RagState)
    .addNode("retrieve", observeNode("retrieve", retrieve))
    .addNode("fit", observeNode("fit", fit))
    .addNode("generate", observeNode("generate", generate))
    .addEdge(START, "retrieve")
    .addEdge("retrieve", "fit")
    .addEdge("fit", "generate")
    .addEdge("generate", END)
    .compile({ name: "rag" });
  // Three supersteps and a spare; the answering agent's own loop needs its budget too.
  return setStepBudget(graph, Math.max(stepBudgetOf(answerer) ?? 0, 5));
}

/** The index once: a lazy one is built on first use and shared; a failed build is tried again next time. */
function lazy(index: RagOptions["index"]): () => Promise<PassageIndex> {
  if (typeof index !== "function") return () => Promise.resolve(index);
  let pending: Promise<PassageIndex> | undefined;
  return () => {
    pending ??= index().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
