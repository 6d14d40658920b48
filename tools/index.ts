import { resolve } from "node:path";
import type { GraphBuildContext } from "conclave";
import { createEmbeddings } from "conclave";
import { calculator } from "./calculator/index.ts";
import { createReadFileTool } from "./read-file/index.ts";
import { createRetrieveTool } from "./retrieve/index.ts";

export { calculator } from "./calculator/index.ts";
export { createReadFileTool } from "./read-file/index.ts";
export { BUNDLED_CORPUS, buildIndex, createRetrieveTool } from "./retrieve/index.ts";

/** The standard research toolset, configured from a graph's build context (corpus, embeddings, workspace). */
export function researchTools({ config, cwd }: GraphBuildContext) {
  const { embeddings } = createEmbeddings(config);
  return [
    calculator,
    createRetrieveTool({ embeddings, ...(config.corpus ? { corpus: resolve(cwd, config.corpus) } : {}) }),
    createReadFileTool({ root: resolve(cwd, config.workspace) }),
  ];
}
