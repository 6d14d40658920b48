import type { Embeddings } from "@langchain/core/embeddings";
import { MarkdownTextSplitter, RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import type { CorpusDocument, Passage } from "./corpus.ts";
import { corpusIndex } from "./passage-index.ts";
import type { Chunker, PassageIndex } from "./passage-index.ts";

/** How `ingestFolder` splits documents: sizes in characters, as LangChain's text splitters count them. */
export interface ChunkingOptions {
  /** Most characters in a chunk. */
  chunkSize: number;
  /** Characters a chunk repeats from the end of the one before (whole words or lines, up to this many). */
  chunkOverlap: number;
}

export interface IngestOptions extends ChunkingOptions {
  embeddings: Embeddings;
  /** Where the built index is kept (e.g. `.conclave/index`), keyed by contents, chunking and embeddings; no caching when omitted. */
  cacheDir?: string;
}

const ChunkingSchema = z
  .object({
    chunkSize: z.number().int().min(10, "use at least 10 characters"),
    chunkOverlap: z.number().int().min(0),
  })
  .refine((options) => options.chunkOverlap < options.chunkSize, { message: "chunkOverlap must be smaller than chunkSize", path: ["chunkOverlap"] });

/**
 * A chunker built on LangChain's text splitters: Markdown files split at headings, then
 * paragraphs, lines and words (`MarkdownTextSplitter`); text files at paragraphs, lines and words
 * (`RecursiveCharacterTextSplitter`). Each chunk is at most `chunkSize` characters and repeats up
 * to `chunkOverlap` characters of the previous one, so a fact cut at a boundary is whole in one of
 * them. Chunks are numbered from 1 per document: `documentId#n`.
 *
 * @example
 * const index = corpusIndex({ folder: "docs", embeddings, chunker: textSplitterChunker({ chunkSize: 500, chunkOverlap: 80 }) });
 */
export function textSplitterChunker(options: ChunkingOptions): Chunker {
  const { chunkSize, chunkOverlap } = validChunking(options, "textSplitterChunker");
  const markdown = new MarkdownTextSplitter({ chunkSize, chunkOverlap });
  const text = new RecursiveCharacterTextSplitter({ chunkSize, chunkOverlap });
  return {
    id: `textsplitters:${chunkSize}:${chunkOverlap}`,
    async split(documents: CorpusDocument[]): Promise<Passage[]> {
      const passages: Passage[] = [];
      for (const document of documents) {
        const splitter = /\.(?:md|markdown)$/i.test(document.path) ? markdown : text;
        const chunks = (await splitter.splitText(document.text)).filter((chunk) => chunk.trim().length > 0);
        chunks.forEach((chunk, index) => passages.push({ id: `${document.id}#${index + 1}`, documentId: document.id, title: document.title, text: chunk }));
      }
      return passages;
    },
  };
}

/**
 * Ingests a folder of Markdown and text files for retrieval: reads them (front matter gives ids
 * and titles; README files are skipped), splits them with `textSplitterChunker`, embeds every
 * chunk and builds an hnswlib index — cached under `cacheDir` when given.
 *
 * @example
 * const index = await ingestFolder("docs", { chunkSize: 500, chunkOverlap: 80, embeddings: new OfflineEmbeddings() });
 * const graph = createRagGraph({ index, k: 4, tokenBudget: 600 });
 */
export function ingestFolder(path: string, options: IngestOptions): Promise<PassageIndex> {
  const chunking = validChunking(options, "ingestFolder");
  if (!options.embeddings || typeof options.embeddings.embedDocuments !== "function") {
    throw new DefinitionError("ingestFolder needs embeddings, e.g. { embeddings: new OfflineEmbeddings() } or createEmbeddings(config).embeddings.");
  }
  return corpusIndex({ folder: path, embeddings: options.embeddings, chunker: textSplitterChunker(chunking), ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) })();
}

function validChunking(options: ChunkingOptions, caller: string): ChunkingOptions {
  const parsed = ChunkingSchema.safeParse({ chunkSize: options?.chunkSize, chunkOverlap: options?.chunkOverlap });
  if (!parsed.success) throw new DefinitionError(`${caller} got invalid chunking options: ${z.prettifyError(parsed.error)}. Pass { chunkSize: 500, chunkOverlap: 80 } (characters).`);
  return parsed.data;
}
