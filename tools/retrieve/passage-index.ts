/** The passage index (hnswlib-node, cached under `.conclave/index`) lives in conclave (`src/retrieval`); re-exported for the tools built on it. */
export { corpusIndex } from "conclave";
export type { IndexOptions, PassageIndex } from "conclave";
