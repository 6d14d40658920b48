import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { ConclaveError, GraphNotFoundError } from "../errors.ts";
import type { ConclaveConfig } from "../config/schema.ts";
import type { RunnableGraph } from "../runtime/run.ts";
import { answerFromMessages } from "./answer.ts";
import { defineGraph, definitionOf, isRunnableGraph } from "./define-graph.ts";
import type { ConclaveGraph } from "./define-graph.ts";

/** A registered graph: its name and where it lives (`./file.ts:exportName`). */
export interface RegistryEntry {
  name: string;
  target: string;
  /** Which file registered it. */
  from: string;
}

/**
 * The graph registry: the `graphs` map of `langgraph.json` (so LangGraph's tooling and Conclave
 * see the same graphs) overlaid with the config's own `graphs`. Conclave's runtime never imports
 * a graph directly; it loads registered graphs by path, exactly as it loads a user's.
 */
export function readRegistry(config: ConclaveConfig, cwd: string): RegistryEntry[] {
  const entries = new Map<string, RegistryEntry>();
  const registryFile = resolve(cwd, config.registry);
  if (existsSync(registryFile)) {
    let parsed: { graphs?: Record<string, unknown> };
    try {
      parsed = JSON.parse(readFileSync(registryFile, "utf8")) as { graphs?: Record<string, unknown> };
    } catch (error) {
      throw new GraphNotFoundError(`Cannot read the graph registry ${registryFile}: ${(error as Error).message}. Fix its JSON.`, { cause: error });
    }
    for (const [name, target] of Object.entries(parsed.graphs ?? {})) {
      if (typeof target === "string") entries.set(name, { name, target, from: registryFile });
    }
  }
  for (const [name, target] of Object.entries(config.graphs)) entries.set(name, { name, target, from: "config" });
  return [...entries.values()];
}

/** Loads a registered graph by name and returns its definition (plain compiled graphs get a message-based one). */
export async function loadGraph(name: string, config: ConclaveConfig, cwd: string): Promise<ConclaveGraph> {
  const entries = readRegistry(config, cwd);
  const entry = entries.find((candidate) => candidate.name === name);
  if (!entry) {
    const known = entries.map((candidate) => candidate.name).join(", ") || "none";
    throw new GraphNotFoundError(`No graph named "${name}". Registered graphs: ${known}. Register it in the "graphs" map of ${config.registry} or of conclave.config.json as "./path/file.ts:exportName".`);
  }
  const [file, exportName = "default"] = splitTarget(entry.target);
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new GraphNotFoundError(`Graph "${name}" points at ${path}, which does not exist. Fix its entry in ${entry.from}.`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    // The file exists but throws on import: a bug in the graph, not a usage mistake.
    throw new ConclaveError("GRAPH_LOAD_FAILED", "system", `Graph "${name}" failed to load from ${path}: ${(error as Error).message}. Fix the module (run it with "npx tsx ${file}" to see the error).`, { cause: error });
  }
  const value = module[exportName];
  const definition = definitionOf(value);
  if (definition) return definition;
  if (isRunnableGraph(value)) return wrapCompiledGraph(name, value);
  throw new GraphNotFoundError(`Graph "${name}": ${path} has no export "${exportName}" holding a compiled graph or a defineGraph() definition. Exports found: ${Object.keys(module).join(", ") || "none"}.`);
}

/** "./graphs/a.ts:graph" → ["./graphs/a.ts", "graph"]; a Windows drive letter is not a separator. */
export function splitTarget(target: string): [string, string | undefined] {
  const index = target.lastIndexOf(":");
  return index > 1 ? [target.slice(0, index), target.slice(index + 1)] : [target, undefined];
}

/** A graph compiled elsewhere, run with the usual `{ messages }` input and answered by its last AI message. */
function wrapCompiledGraph(name: string, graph: RunnableGraph): ConclaveGraph {
  return defineGraph({
    name,
    description: "A compiled LangGraph graph with a messages state",
    build: () => graph,
    input: (task: string) => ({ messages: [new HumanMessage(task)] }) as never,
    output: (state: unknown) => answerFromMessages(((state as { messages?: BaseMessage[] } | undefined)?.messages ?? [])),
  });
}
