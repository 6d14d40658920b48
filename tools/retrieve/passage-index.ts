import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Embeddings } from "@langchain/core/embeddings";
import { ToolExecutionError } from "conclave";
import hnswlib from "hnswlib-node";
import { chunkDocuments, listCorpusFiles, readCorpus } from "./corpus.ts";
import type { Passage } from "./corpus.ts";

/** A searchable index over one corpus: its passages and their hnswlib vectors. */
export interface PassageIndex {
  passages: Passage[];
  /** The passages most similar to `query`, best first, with cosine similarity as `score`. */
  search(query: string, k: number): Promise<Array<Passage & { score: number }>>;
  /** Passages by id (`doc#n`), or every passage of a document (`doc`). */
  lookup(id: string): Passage[];
  /** Whether the index came from the on-disk cache. */
  fromCache: boolean;
}

export interface IndexOptions {
  folder: string;
  embeddings: Embeddings;
  /** Where built indexes are kept (e.g. `.conclave/index`); no caching when omitted. */
  cacheDir?: string;
}

const CACHE_VERSION = 1;

/**
 * One lazily built index per corpus, shared by every tool that reads it. Built on first use, and
 * cached on disk keyed by the files (path, size, modification time) and the embeddings model, so
 * a later run reuses it and an edited corpus is re-indexed.
 */
export function corpusIndex(options: IndexOptions): () => Promise<PassageIndex> {
  let pending: Promise<PassageIndex> | undefined;
  return () => {
    pending ??= loadOrBuild(options).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function loadOrBuild({ folder, embeddings, cacheDir }: IndexOptions): Promise<PassageIndex> {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ToolExecutionError("retrieve", `The corpus folder ${folder} does not exist. Point --corpus (or "corpus" in conclave.config.json) at a folder of .md or .txt files.`);
  }
  const dir = cacheDir ? join(cacheDir, cacheKey(folder, embeddings)) : undefined;
  const cached = dir ? readCache(dir) : undefined;
  if (cached) return wrap(cached.index, cached.passages, embeddings, true);
  const passages = chunkDocuments(readCorpus(folder));
  if (passages.length === 0) throw new ToolExecutionError("retrieve", `The corpus folder ${folder} has no .md or .txt files with text. Add documents or point --corpus elsewhere.`);
  const vectors = await embeddings.embedDocuments(passages.map((passage) => `${passage.title}. ${passage.text}`));
  const index = new hnswlib.HierarchicalNSW("cosine", vectors[0]!.length);
  index.initIndex(passages.length);
  vectors.forEach((vector, label) => index.addPoint(vector, label));
  if (dir) writeCache(dir, index, { version: CACHE_VERSION, dimensions: vectors[0]!.length, passages });
  return wrap(index, passages, embeddings, false);
}

/**
 * What the index depends on: the files' contents (not their dates, which checkouts change) and the
 * embeddings — model, dimensions and endpoint — so a different embedding never reads an old index.
 */
function cacheKey(folder: string, embeddings: Embeddings): string {
  const hash = createHash("sha256");
  const described = embeddings as { model?: unknown; modelName?: unknown; dimensions?: unknown; clientConfig?: { baseURL?: unknown } };
  hash.update(JSON.stringify({ version: CACHE_VERSION, kind: embeddings.constructor.name, model: described.model ?? described.modelName, dimensions: described.dimensions, endpoint: described.clientConfig?.baseURL }));
  for (const file of listCorpusFiles(folder)) hash.update(`\0${relative(folder, file)}\0`).update(readFileSync(file));
  return hash.digest("hex").slice(0, 24);
}

/** A complete, readable cache entry, or nothing: a damaged entry is removed and rebuilt, never fatal. */
function readCache(dir: string): { index: hnswlib.HierarchicalNSW; passages: Passage[] } | undefined {
  if (!existsSync(join(dir, "meta.json")) || !existsSync(join(dir, "index.bin"))) return undefined;
  try {
    const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { version?: number; dimensions?: number; passages?: Passage[] };
    if (meta.version !== CACHE_VERSION || !meta.dimensions || !meta.passages?.length) throw new Error("incomplete cache entry");
    const index = new hnswlib.HierarchicalNSW("cosine", meta.dimensions);
    index.readIndexSync(join(dir, "index.bin"));
    if (index.getCurrentCount() !== meta.passages.length) throw new Error("index and passages disagree");
    return { index, passages: meta.passages };
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

/**
 * Writes the entry into a private folder and renames it into place, so a process reading the
 * cache never sees a half-written index, and two processes building at once both end well.
 */
function writeCache(dir: string, index: hnswlib.HierarchicalNSW, meta: { version: number; dimensions: number; passages: Passage[] }): void {
  const staging = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    mkdirSync(staging, { recursive: true });
    index.writeIndexSync(join(staging, "index.bin"));
    writeFileSync(join(staging, "meta.json"), JSON.stringify(meta));
    renameSync(staging, dir);
  } catch {
    // Another process won the race, or the cache folder is not writable: the index in memory still serves.
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function wrap(index: hnswlib.HierarchicalNSW, passages: Passage[], embeddings: Embeddings, fromCache: boolean): PassageIndex {
  return {
    passages,
    fromCache,
    async search(query, k) {
      const vector = await embeddings.embedQuery(query);
      const { neighbors, distances } = index.searchKnn(vector, Math.min(k, passages.length));
      return neighbors.map((label, rank) => ({ ...passages[label]!, score: 1 - (distances[rank] ?? 1) }));
    },
    lookup(id) {
      return passages.filter((passage) => passage.id === id || passage.documentId === id);
    },
  };
}
