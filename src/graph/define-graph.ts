import type { ConclaveConfig } from "../config/schema.ts";
import { configFromEnvironment } from "../config/load.ts";
import { DefinitionError } from "../errors.ts";
import type { GraphInput, GraphState, RunnableGraph } from "../runtime/run.ts";
import type { Citation } from "./citations.ts";

/** Options a run passes to a graph's builder (CLI: `--max-rounds`, `--agents`); a graph reads those it knows. */
export interface GraphOptions {
  /** Most critique or debate rounds. */
  maxRounds?: number;
  /** How many agents take part (for example debate solvers). */
  agents?: number;
  [option: string]: unknown;
}

/** What a graph builder receives: the resolved configuration, the folder paths are relative to, and run options. */
export interface GraphBuildContext {
  config: ConclaveConfig;
  cwd: string;
  options?: GraphOptions;
}

/** The answer the CLI prints, pulled from a graph's final state. */
export interface GraphAnswer {
  answer: string;
  citations: Citation[];
  /** Graph-specific facts for `--json` (rounds, verdict, termination reason, …). */
  details?: Record<string, unknown>;
}

/**
 * A runnable graph as the CLI and services see it: how to build it from configuration, how a
 * task becomes its input, and how its final state becomes an answer. The model is not part of
 * the definition — `run()` hands it to every node at run time.
 */
export interface GraphDefinition<G extends RunnableGraph = RunnableGraph> {
  name: string;
  description: string;
  build(context: GraphBuildContext): G;
  input(task: string): GraphInput<G>;
  output(state: GraphState<G>): GraphAnswer;
  /** A sample task, bundled with the graph: `conclave run --graph NAME` with no task runs it (offline by default). */
  sample?: string;
}

export type ConclaveGraph<G extends RunnableGraph = RunnableGraph> = Readonly<GraphDefinition<G>> & { readonly kind: "conclave.graph" };

const DEFINITION = Symbol.for("conclave.graphDefinition");

/**
 * Defines a graph for the CLI and registry.
 * @example
 * export const research = defineGraph({
 *   name: "research", description: "One research agent with tools",
 *   build: ({ config }) => createAgentGraph(researcher(config)),
 *   input: (task) => ({ messages: [new HumanMessage(task)] }),
 *   output: (state) => answerFromMessages(state.messages),
 * });
 */
export function defineGraph<G extends RunnableGraph>(definition: GraphDefinition<G>): ConclaveGraph<G> {
  for (const key of ["build", "input", "output"] as const) {
    if (typeof definition[key] !== "function") throw new DefinitionError(`Graph "${definition.name}" needs a ${key}() function.`);
  }
  if (!definition.name) throw new DefinitionError("A graph needs a name.");
  return Object.freeze({ ...definition, kind: "conclave.graph" as const });
}

/**
 * Builds the compiled graph of a definition — what `langgraph.json` points at so LangGraph's own
 * tooling can load it. Without a context, settings come from the environment only.
 */
export function compileGraph<G extends RunnableGraph>(definition: ConclaveGraph<G>, context?: GraphBuildContext): G {
  const graph = definition.build(context ?? { config: configFromEnvironment(), cwd: process.cwd() });
  Object.defineProperty(graph, DEFINITION, { value: definition, configurable: true, enumerable: false });
  return graph;
}

/** The definition a compiled graph was built from, if it came from `compileGraph`. */
export function definitionOf(value: unknown): ConclaveGraph | undefined {
  if (isGraphDefinition(value)) return value;
  if (typeof value === "object" && value !== null) {
    const definition = (value as Record<symbol, unknown>)[DEFINITION];
    if (isGraphDefinition(definition)) return definition;
  }
  return undefined;
}

export function isGraphDefinition(value: unknown): value is ConclaveGraph {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "conclave.graph";
}

/** True for anything LangGraph compiled. */
export function isRunnableGraph(value: unknown): value is RunnableGraph {
  return typeof value === "object" && value !== null && typeof (value as RunnableGraph).invoke === "function" && typeof (value as RunnableGraph).stream === "function";
}
