import type { Agent } from "../agent/define-agent.ts";
import { DefinitionError } from "../errors.ts";
import type { ConclaveGraph } from "../graph/define-graph.ts";
import type { RunBudget } from "../runtime/budget.ts";
import type { Sample, Scorer, TaskOutput } from "./types.ts";
import type { TaskContext } from "./task.ts";

/** How a sample's scores over several epochs become one score. */
export type EpochReducer = "mean" | "mode" | "max" | "min" | { passAtK: number };

/**
 * What a suite evaluates: a registered-style graph definition (its `input(task)` gets the
 * sample's prompt), an agent (a ReAct loop on the prompt), or a function of the sample.
 */
export type EvalTask<I = unknown, E = unknown> =
  // Any graph definition: its input() takes the sample's prompt, whatever state it builds.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | ConclaveGraph<any>
  | Agent<never>
  | ((sample: Sample<I, E>, context: TaskContext) => Promise<TaskResult | string> | TaskResult | string);

/** What a function task returns (a string is the answer text). */
export interface TaskResult {
  text: string;
  output?: unknown;
  citations?: TaskOutput["citations"];
  context?: TaskOutput["context"];
}

/** A suite variant: the same dataset and scorers through another task (e.g. debate vs majority vote at equal calls). */
export interface SuiteVariant<I = unknown, E = unknown> {
  task: EvalTask<I, E>;
  description?: string;
}

export interface SuiteDefinition<I = unknown, E = unknown> {
  /** Letters, digits, `-` and `_`: the suite's name on the command line and in reports. */
  name: string;
  description?: string;
  /** The samples, or a (possibly async) function producing them; validated by the loaders in `dataset.ts`. */
  dataset: readonly Sample<I, E>[] | (() => readonly Sample<I, E>[] | Promise<readonly Sample<I, E>[]>);
  /** The task, or several named variants (then `task` is the default variant). Typed by the dataset. */
  task?: EvalTask<NoInfer<I>, NoInfer<E>>;
  variants?: Record<string, SuiteVariant<NoInfer<I>, NoInfer<E>>>;
  /** The text a graph or agent task receives for a sample (default: the input when it is a string, else its JSON). */
  prompt?: (sample: Sample<I, E>) => string;
  /** For graph and agent tasks: pull citations and retrieved passages out of the final state. */
  extract?: (state: unknown) => Partial<Pick<TaskOutput, "citations" | "context">>;
  scorers: readonly Scorer<NoInfer<I>, NoInfer<E>>[];
  /** Attempts per sample (default 1). */
  epochs?: number;
  reducer?: EpochReducer;
  /** Metadata keys to break scores down by (default: every key with at most 20 distinct values). */
  groupBy?: readonly string[];
  /** Least mean score per scorer; the gate fails below it. */
  thresholds?: Record<string, number>;
  /** Share of samples allowed to fail with an error before the gate fails (default 0). */
  maxErrorRate?: number;
  /** Caps on each sample's run. */
  budget?: RunBudget;
  /** "model": the suite needs a real model; with only the offline model it says so and is skipped cleanly. */
  requires?: "model";
}

export type Suite<I = unknown, E = unknown> = Readonly<SuiteDefinition<I, E>> & { readonly kind: "conclave.suite" };

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines an eval suite. Checked at once: a suite with no task, no scorers, duplicate scorer names
 * or thresholds for scorers it does not have fails here, not after an hour of model calls.
 *
 * @example
 * export const suite = defineSuite({
 *   name: "arithmetic", dataset: samples, task: quickstart,
 *   scorers: [numeric()], thresholds: { numeric: 0.95 },
 * });
 */
export function defineSuite<I, E>(definition: SuiteDefinition<I, E>): Suite<I, E> {
  if (!NAME.test(definition.name ?? "")) throw new DefinitionError(`Suite name ${JSON.stringify(definition.name)} is invalid: use 1-64 letters, digits, "-" or "_".`);
  if (!definition.task && !Object.keys(definition.variants ?? {}).length) throw new DefinitionError(`Suite "${definition.name}" has no task: give it a graph definition, an agent or a function (or variants).`);
  if (!definition.scorers?.length) throw new DefinitionError(`Suite "${definition.name}" has no scorers: add at least one, e.g. exact() or numeric().`);
  const names = definition.scorers.map((scorer) => scorer.name);
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new DefinitionError(`Suite "${definition.name}" has two scorers named "${duplicate}"; scorer names key the report, so rename one.`);
  for (const scorer of Object.keys(definition.thresholds ?? {})) {
    if (!names.includes(scorer)) throw new DefinitionError(`Suite "${definition.name}" has a threshold for "${scorer}", which is not one of its scorers (${names.join(", ")}).`);
  }
  if (definition.epochs !== undefined && !(Number.isInteger(definition.epochs) && definition.epochs >= 1)) throw new DefinitionError(`Suite "${definition.name}" has epochs ${definition.epochs}; use a whole number of at least 1.`);
  return Object.freeze({ ...definition, kind: "conclave.suite" as const });
}

export function isSuite(value: unknown): value is Suite {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "conclave.suite";
}

/** The variants to run: the named ones, or "default" for a suite with a single task. */
export function variantsOf<I, E>(suite: Suite<I, E>): Array<[string, SuiteVariant<I, E>]> {
  const variants: Array<[string, SuiteVariant<I, E>]> = Object.entries(suite.variants ?? {});
  if (suite.task) variants.unshift(["default", { task: suite.task }]);
  return variants;
}
