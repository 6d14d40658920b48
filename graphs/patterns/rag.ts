import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileGraph, createEmbeddings, createRagGraph, defineGraph, ingestFolder } from "conclave";
import type { GraphBuildContext } from "conclave";

/** The handbook of a (fictional) tool library: a few small Markdown files. */
export const KNOWLEDGE_DOCS = fileURLToPath(new URL("./samples/knowledge-docs/", import.meta.url));

/**
 * RAG over the sample handbook: chunks of at most 300 characters with 60 of overlap (split at
 * Markdown headings first), embedded with the configured embeddings (offline by default) and cached
 * under `.conclave/index`; 4 passages retrieved, as many as fit 200 tokens put in the prompt.
 */
export function createHandbookRag({ config, cwd }: GraphBuildContext, folder = KNOWLEDGE_DOCS) {
  const { embeddings } = createEmbeddings(config, { cwd });
  // Lazy: the folder is read and embedded on the first question, not when the graph is loaded.
  return createRagGraph({ index: () => ingestFolder(folder, { chunkSize: 300, chunkOverlap: 60, embeddings, cacheDir: join(cwd, ".conclave", "index") }), k: 4, tokenBudget: 200 });
}

/** `conclave run --graph rag "question"`: answers from the sample handbook, citing [doc#chunk]. */
export const example = defineGraph({
  name: "rag",
  description: "Retrieval-augmented generation: hnswlib search over the sample handbook, the best passages that fit a token budget, a cited answer",
  sample: "How long can I borrow a power tool?",
  build: (context) => createHandbookRag(context),
  input: (task) => ({ question: task }),
  output: (state) => ({
    answer: state.answer,
    citations: state.citations,
    details: {
      retrieved: state.retrieved.map((passage) => `${passage.id} (${passage.score.toFixed(2)})`),
      context: state.context,
      contextTokens: state.contextTokens,
      removedCitations: state.removedCitations,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
