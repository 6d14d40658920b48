import { fileURLToPath } from "node:url";
import { existsSync, statSync } from "node:fs";
import type { Embeddings } from "@langchain/core/embeddings";
import { ToolExecutionError, defineTool } from "conclave";
import hnswlib from "hnswlib-node";
import { z } from "zod";
import { chunkDocuments, readCorpus } from "./corpus.ts";
import type { Passage } from "./corpus.ts";

/** The corpus bundled with Conclave (documents written for the project, CC0). */
export const BUNDLED_CORPUS = fileURLToPath(new URL("../corpus/", import.meta.url));

export interface RetrieveOptions {
  /** Folder of .md/.txt files; the bundled corpus when omitted. */
  corpus?: string;
  embeddings: Embeddings;
  /** Passages returned per query (default 4). */
  k?: number;
}

/** A searchable index over one corpus: passages and their hnswlib vectors. */
export interface PassageIndex {
  passages: Passage[];
  search(query: string, k: number): Promise<Array<Passage & { score: number }>>;
}

/** Embeds every passage and builds an HNSW index (cosine space) over them. */
export async function buildIndex(folder: string, embeddings: Embeddings): Promise<PassageIndex> {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ToolExecutionError("retrieve", `The corpus folder ${folder} does not exist. Point --corpus (or "corpus" in conclave.config.json) at a folder of .md or .txt files.`);
  }
  const passages = chunkDocuments(readCorpus(folder));
  if (passages.length === 0) throw new ToolExecutionError("retrieve", `The corpus folder ${folder} has no .md or .txt files with text. Add documents or point --corpus elsewhere.`);
  const vectors = await embeddings.embedDocuments(passages.map((passage) => `${passage.title}. ${passage.text}`));
  const dimensions = vectors[0]!.length;
  const index = new hnswlib.HierarchicalNSW("cosine", dimensions);
  index.initIndex(passages.length);
  vectors.forEach((vector, label) => index.addPoint(vector, label));
  return {
    passages,
    async search(query, k) {
      const vector = await embeddings.embedQuery(query);
      const { neighbors, distances } = index.searchKnn(vector, Math.min(k, passages.length));
      return neighbors.map((label, rank) => ({ ...passages[label]!, score: 1 - (distances[rank] ?? 1) }));
    },
  };
}

/**
 * The `retrieve` tool: semantic search over a corpus, returning passages that each start with
 * `[documentId#n]` — the source id to cite. The index is built on first use and kept for the
 * life of the tool.
 */
export function createRetrieveTool(options: RetrieveOptions) {
  const folder = options.corpus ?? BUNDLED_CORPUS;
  let index: Promise<PassageIndex> | undefined;
  return defineTool({
    name: "retrieve",
    description: "Searches the document corpus and returns the most relevant passages, each starting with its [source id]. Use it to look up facts; cite the source ids you use.",
    schema: z.object({
      query: z.string().min(1).max(1_000).describe("What to search for, in plain words"),
      k: z.number().int().min(1).max(10).optional().describe("How many passages to return (default 4)"),
    }),
    run: async ({ query, k }) => {
      index ??= buildIndex(folder, options.embeddings).catch((error: unknown) => {
        index = undefined;
        throw error;
      });
      const hits = await (await index).search(query, k ?? options.k ?? 4);
      return hits.map((hit) => `[${hit.id}] ${hit.text}`).join("\n\n");
    },
  });
}
