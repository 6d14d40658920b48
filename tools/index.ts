import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { GraphBuildContext } from "conclave";
import { ConfigError, createEmbeddings } from "conclave";
import { calculator } from "./calculator/index.ts";
import { createCheckSupportTool } from "./check-support/index.ts";
import { createReadFileTool } from "./read-file/index.ts";
import { BUNDLED_CORPUS, corpusIndex, createRetrieveTool } from "./retrieve/index.ts";

export { calculator } from "./calculator/index.ts";
export { checkSupport, createCheckSupportTool } from "./check-support/index.ts";
export type { SupportCheck, SupportVerdict } from "./check-support/index.ts";
export { createReadFileTool } from "./read-file/index.ts";
export { BUNDLED_CORPUS, buildIndex, corpusIndex, createRetrieveTool } from "./retrieve/index.ts";

/**
 * The standard toolset, configured from a graph's build context: one corpus index (the bundled
 * corpus or `--corpus DIR`, cached under `.conclave/index`) shared by `retrieve` and
 * `check_support`, the calculator, and `read_file` confined to the workspace.
 */
export function standardTools({ config, cwd }: GraphBuildContext) {
  const { embeddings } = createEmbeddings(config, { cwd });
  const folder = config.corpus ? resolve(cwd, config.corpus) : BUNDLED_CORPUS;
  const workspace = resolve(cwd, config.workspace);
  // A wrong folder is a configuration mistake: say so before the run, not as a tool error mid-run.
  if (!isFolder(folder)) throw new ConfigError(`The corpus folder ${folder} does not exist or is not a folder. Fix --corpus / "corpus" in conclave.config.json / CONCLAVE_CORPUS.`);
  if (!isFolder(workspace)) throw new ConfigError(`The workspace folder ${workspace} does not exist or is not a folder. Fix "workspace" in conclave.config.json / CONCLAVE_WORKSPACE.`);
  const index = corpusIndex({ folder, embeddings, cacheDir: join(cwd, ".conclave", "index") });
  return {
    calculator,
    retrieve: createRetrieveTool({ index }),
    readFile: createReadFileTool({ root: workspace }),
    checkSupport: createCheckSupportTool({ index }),
    index,
  };
}

/** The research toolset: calculator, retrieve and read_file. */
export function researchTools(context: GraphBuildContext) {
  const tools = standardTools(context);
  return [tools.calculator, tools.retrieve, tools.readFile];
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
