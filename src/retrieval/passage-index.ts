import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Embeddings } from "@langchain/core/embeddings";
import hnswlib from "hnswlib-node";
import { ConclaveError } from "../errors.ts";
import { chunkDocuments, listCorpusFiles, readCorpus } from "./corpus.ts";
import type { CorpusDocument, Passage } from "./corpus.ts";

/** A passage found by a search, with its cosine similarity to the query. */
export type ScoredPassage = Passage & { score: number };

/** A searchable index over one corpus: its passages and their hnswlib vectors. */
export interface PassageIndex {
  passages: Passage[];
  /** The passages most similar to `query`, best first, with cosine similarity as `score`. */
  search(query: string, k: number): Promise<ScoredPassage[]>;
  /** Passages by id (`doc#n`), or every passage of a document (`doc`). */
  lookup(id: string): Passage[];
  /** Whether the index came from the on-disk cache. */
  fromCache: boolean;
}

/** How documents become passages. `id` names the settings: it is part of the cache key, so other settings never read an old index. */
export interface Chunker {
  id: string;
  split(documents: CorpusDocument[]): Passage[] | Promise<Passage[]>;
}

export interface IndexOptions {
  folder: string;
  embeddings: Embeddings;
  /** Where built indexes are kept (e.g. `.conclave/index`); no caching when omitted. */
  cacheDir?: string;
  /** How documents are split (default: whole paragraphs of about 600 characters, `chunkDocuments`). */
  chunker?: Chunker;
}

/** The corpus folder is missing or holds nothing to index. */
export class CorpusError extends ConclaveError {
  override name = "CorpusError";
  constructor(message: string, options?: { details?: Record<string, unknown> }) {
    super("CORPUS_INVALID", "user", message, options);
  }
}

const CACHE_VERSION = 1;

/**
 * One lazily built index per corpus, shared by every tool and node that reads it. Built on first
 * use, and cached on disk keyed by the files' contents, the chunker and the embeddings model, so
 * a later run reuses it and an edited corpus is re-indexed. A failed build is not remembered: the
 * next call tries again.
 *
 * @example
 * const index = corpusIndex({ folder: "docs", embeddings, cacheDir: ".conclave/index" });
 * const hits = await (await index()).search("How long is the bridge?", 4);
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

/**
 * An in-memory index over passages you already have (no folder, no cache): each passage is
 * embedded as `title. text` and added to an hnswlib cosine index.
 *
 * @example
 * const index = await createPassageIndex([{ id: "a#1", documentId: "a", title: "A", text: "…" }], embeddings);
 */
export async function createPassageIndex(passages: Passage[], embeddings: Embeddings): Promise<PassageIndex> {
  if (passages.length === 0) throw new CorpusError("createPassageIndex needs at least one passage to index.");
  return wrap(await buildVectors(passages, embeddings), passages, embeddings, false);
}

async function loadOrBuild({ folder, embeddings, cacheDir, chunker }: IndexOptions): Promise<PassageIndex> {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new CorpusError(`The corpus folder ${folder} does not exist. Point --corpus (or "corpus" in conclave.config.json) at a folder of .md or .txt files.`, { details: { folder } });
  }
  const dir = cacheDir ? join(cacheDir, cacheKey(folder, embeddings, chunker)) : undefined;
  const cached = dir ? readCache(dir) : undefined;
  if (cached) return wrap(cached.index, cached.passages, embeddings, true);
  const documents = readCorpus(folder);
  const passages = chunker ? await chunker.split(documents) : chunkDocuments(documents);
  if (passages.length === 0) throw new CorpusError(`The corpus folder ${folder} has no .md or .txt files with text. Add documents or point --corpus elsewhere.`, { details: { folder } });
  const index = await buildVectors(passages, embeddings);
  if (dir) writeCache(dir, index, { version: CACHE_VERSION, dimensions: index.getNumDimensions(), passages });
  return wrap(index, passages, embeddings, false);
}

/** Points added between two yields to the event loop (a few milliseconds of work). */
const INDEX_BATCH = 256;

async function buildVectors(passages: Passage[], embeddings: Embeddings): Promise<hnswlib.HierarchicalNSW> {
  const vectors = await embeddings.embedDocuments(passages.map((passage) => `${passage.title}. ${passage.text}`));
  const index = new hnswlib.HierarchicalNSW("cosine", vectors[0]!.length);
  index.initIndex(passages.length);
  // Yields to the event loop between batches: a queue worker renews its job lock from timers, and
  // a large corpus built in one synchronous stretch would let another worker take the job as stalled.
  for (let label = 0; label < vectors.length; label++) {
    index.addPoint(vectors[label]!, label);
    if (label % INDEX_BATCH === INDEX_BATCH - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  return index;
}

/**
 * What the index depends on: the files' contents (not their dates, which checkouts change), the
 * chunker's settings and the embeddings — model, dimensions and endpoint — so a different
 * embedding or chunking never reads an old index. The default chunker adds nothing, so indexes
 * cached before chunkers existed stay valid.
 */
function cacheKey(folder: string, embeddings: Embeddings, chunker: Chunker | undefined): string {
  const hash = createHash("sha256");
  const described = embeddings as { model?: unknown; modelName?: unknown; dimensions?: unknown; clientConfig?: { baseURL?: unknown } };
  hash.update(JSON.stringify({ version: CACHE_VERSION, kind: embeddings.constructor.name, model: described.model ?? described.modelName, dimensions: described.dimensions, endpoint: described.clientConfig?.baseURL }));
  if (chunker) hash.update(`\0chunker\0${chunker.id}`);
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
