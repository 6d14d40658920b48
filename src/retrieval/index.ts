/** Retrieval: corpus folders → passages → an hnswlib index, cached on disk. Used by the retrieve tool and the RAG pattern. */
export { chunkDocuments, listCorpusFiles, parseDocument, readCorpus } from "./corpus.ts";
// "Passage" is the eval scorers' { id, text }; a corpus passage also names its document and title.
export type { CorpusDocument, Passage as CorpusPassage } from "./corpus.ts";
export { CorpusError, corpusIndex, createPassageIndex } from "./passage-index.ts";
export type { Chunker, IndexOptions, PassageIndex, ScoredPassage } from "./passage-index.ts";
export { ingestFolder, textSplitterChunker } from "./ingest.ts";
export type { ChunkingOptions, IngestOptions } from "./ingest.ts";
