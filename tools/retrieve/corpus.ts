/**
 * The corpus reader lives in conclave (`src/retrieval`), shared with the RAG pattern; it is
 * re-exported here for the tools, suites and tests that read the corpus through the retrieve tool.
 */
export { chunkDocuments, listCorpusFiles, parseDocument, readCorpus } from "conclave";
export type { CorpusDocument, CorpusPassage as Passage } from "conclave";
