import { fileURLToPath } from "node:url";
import type { Embeddings } from "@langchain/core/embeddings";
import { CorpusError, ToolExecutionError, corpusIndex, defineTool } from "conclave";
import type { PassageIndex } from "conclave";
import { z } from "zod";

export { corpusIndex } from "conclave";
export type { IndexOptions, PassageIndex } from "conclave";

/** The corpus bundled with Conclave (documents written for the project, CC0). */
export const BUNDLED_CORPUS = fileURLToPath(new URL("../corpus/", import.meta.url));

export interface RetrieveOptions {
  /** A shared index (see `corpusIndex`); built from `corpus` and `embeddings` when omitted. */
  index?: () => Promise<PassageIndex>;
  /** Folder of .md/.txt files; the bundled corpus when omitted. */
  corpus?: string;
  embeddings?: Embeddings;
  /** Passages returned per query (default 4). */
  k?: number;
}

/** Builds the index of a corpus folder (no caching); kept for callers that want one directly. */
export async function buildIndex(folder: string, embeddings: Embeddings): Promise<PassageIndex> {
  return corpusIndex({ folder, embeddings })();
}

/**
 * The `retrieve` tool: semantic search over a corpus, returning passages that each start with
 * `[documentId#n]` — the source id to cite. The index is built on first use and shared.
 */
export function createRetrieveTool(options: RetrieveOptions) {
  const index = options.index ?? corpusIndex({ folder: options.corpus ?? BUNDLED_CORPUS, embeddings: requireEmbeddings(options.embeddings) });
  return defineTool({
    name: "retrieve",
    description: "Searches the document corpus and returns the most relevant passages, each starting with its [source id]. Use it to look up facts; cite the source ids you use.",
    schema: z.object({
      query: z.string().min(1).max(1_000).describe("What to search for, in plain words"),
      k: z.number().int().min(1).max(10).optional().describe("How many passages to return (default 4)"),
    }),
    run: async ({ query, k }, context) => {
      const hits = await (await searchable(index)).search(query, k ?? options.k ?? 4);
      for (const hit of hits) context.accessed("document", hit.id);
      return hits.map((hit) => `[${hit.id}] ${hit.text}`).join("\n\n");
    },
  });
}

/** The index, with a missing or empty corpus reported as this tool's failure, which the agent reads as an observation. */
async function searchable(index: () => Promise<PassageIndex>): Promise<PassageIndex> {
  try {
    return await index();
  } catch (error) {
    if (error instanceof CorpusError) throw new ToolExecutionError("retrieve", error.message, { cause: error, details: error.details });
    throw error;
  }
}

function requireEmbeddings(embeddings: Embeddings | undefined): Embeddings {
  if (!embeddings) throw new TypeError("createRetrieveTool needs either an index or embeddings.");
  return embeddings;
}
