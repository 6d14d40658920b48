import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ConclaveConfig } from "../config/schema.ts";
import { ConclaveError } from "../errors.ts";
import { splitTarget } from "../graph/registry.ts";
import { isSuite } from "./define-suite.ts";
import type { Suite } from "./define-suite.ts";

/** A suite name that is not registered, or an entry that does not lead to a suite. */
export class SuiteNotFoundError extends ConclaveError {
  override name = "SuiteNotFoundError";
  constructor(message: string) {
    super("SUITE_NOT_FOUND", "user", message);
  }
}

/** The registered suites: the `suites` map of the configuration (name → "./path/file.ts:exportName"). */
export function readSuites(config: ConclaveConfig): Array<{ name: string; target: string }> {
  return Object.entries(config.suites).map(([name, target]) => ({ name, target }));
}

/** Loads a registered suite by name, as the graph registry loads graphs: by path, never imported by the runtime. */
export async function loadSuite(name: string, config: ConclaveConfig, cwd: string): Promise<Suite> {
  const entry = readSuites(config).find((candidate) => candidate.name === name);
  if (!entry) throw new SuiteNotFoundError(`No eval suite named "${name}". Registered suites: ${readSuites(config).map((suite) => suite.name).join(", ") || "none"}. Register it in the "suites" map of conclave.config.json as "./path/suite.ts:exportName".`);
  const [file, exportName = "suite"] = splitTarget(entry.target);
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new SuiteNotFoundError(`Suite "${name}" points at ${path}, which does not exist. Fix its entry in the "suites" map of the config.`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConclaveError("SUITE_LOAD_FAILED", "system", `Suite "${name}" failed to load from ${path}: ${(error as Error).message}. Fix the module (run "npx tsx ${file}" to see the error).`, { cause: error });
  }
  const value = module[exportName];
  if (!isSuite(value)) throw new SuiteNotFoundError(`Suite "${name}": ${path} has no export "${exportName}" holding a defineSuite() suite. Exports found: ${Object.keys(module).join(", ") || "none"}.`);
  return value;
}
