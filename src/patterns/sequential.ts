import { END, ReducedValue, START, StateGraph, StateSchema, isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError, DefinitionError, isConclaveError } from "../errors.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";

/** What a stage sees of the pipeline: the run's input, the previous stage's output, and every output so far. */
export interface SequentialStageState<I = unknown> {
  /** What the run was started with. */
  input: I;
  /** The previous stage's output (the input, for the first stage). */
  value: unknown;
  /** Each finished stage's output, by stage name. */
  outputs: Record<string, unknown>;
  /** Names of the finished stages, in order. */
  completed: string[];
}

/** What a stage is told about where it runs. */
export interface SequentialStageContext {
  /** This stage's name and position (0-based) in the pipeline. */
  stage: string;
  index: number;
  /** The node's LangGraph config: pass it to agents and `observeModelCall` so their calls join the run (events, budget, checkpoints). */
  config: LangGraphRunnableConfig;
  /** Aborted when the run is cancelled. */
  signal?: AbortSignal;
}

/** One stage of a sequential pipeline: its output becomes the next stage's `value`. Outputs are checkpointed, so keep them JSON-serialisable. */
export interface SequentialStage<I = unknown> {
  /** Letters, digits, `_` and `-`; names the node, the events and `outputs[name]`. */
  name: string;
  run(state: SequentialStageState<I>, context: SequentialStageContext): unknown;
}

export interface SequentialOptions<I = unknown> {
  /** Run in this order; at least one. */
  stages: readonly SequentialStage<I>[];
  /** The compiled graph's name (default "sequential"). */
  name?: string;
}

/** A stage threw: the run fails here, and `resume()` on the same thread starts again from this stage. */
export class StageFailedError extends ConclaveError {
  override name = "StageFailedError";
  constructor(stage: string, index: number, total: number, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      "STAGE_FAILED",
      "user",
      `Stage "${stage}" (${index + 1} of ${total}) failed: ${message}. Fix the cause, then resume(graph, { threadId, checkpointer }) to continue from "${stage}": the stages before it are not run again.`,
      { cause, details: { stage, index } },
    );
  }
}

/** The state of a sequential pipeline. `outputs` and `completed` keep every finished stage. */
export const SequentialState = new StateSchema({
  input: z.unknown(),
  value: z.unknown(),
  outputs: new ReducedValue(z.record(z.string(), z.unknown()).default(() => ({})), { inputSchema: z.record(z.string(), z.unknown()), reducer: (current: Record<string, unknown>, next: Record<string, unknown>) => ({ ...current, ...next }) }),
  completed: new ReducedValue(z.array(z.string()).default(() => []), { inputSchema: z.array(z.string()), reducer: (current: string[], next: string[]) => [...current, ...next] }),
});
type State = typeof SequentialState.State;

const NODE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
// LangGraph forbids a node named like a state key.
const RESERVED = ["input", "value", "outputs", "completed"];
const OptionsSchema = z.object({
  stages: z
    .array(z.object({ name: z.string().regex(NODE_NAME, 'use 1-64 letters, digits, "_" or "-"').refine((name) => !RESERVED.includes(name), `${RESERVED.join(", ")} name the pipeline's state; call the stage something else`), run: z.custom<SequentialStage["run"]>((value) => typeof value === "function", "must be a function (state, context) => output") }))
    .min(1, "a pipeline needs at least one stage")
    .refine((stages) => new Set(stages.map((stage) => stage.name)).size === stages.length, "stage names must be distinct: they name nodes, events and outputs"),
  name: z.string().min(1).optional(),
});

/**
 * A sequential pipeline: each stage is one LangGraph node, run in order, and gets the previous
 * stage's output. Every stage boundary is a superstep, so with a checkpointer (`run(…, {
 * checkpointer })`) each finished stage is saved; a stage that throws fails the run with
 * `StageFailedError`, and `resume(graph, { threadId, checkpointer })` re-runs only that stage and
 * those after it (LangGraph re-runs the task that has no saved writes). Each transition is a
 * `decision` event ("stage extract done → clean").
 *
 * Reuses: StateGraph edges for the order, the checkpointer and `resume()` for recovery,
 * `observeNode` for node events, `reportEvent` for transitions. Stages that call models should
 * use an agent (`createAgentGraph`) or `observeModelCall` with `context.config`.
 *
 * @example
 * const graph = createSequentialGraph({ stages: [
 *   { name: "extract", run: ({ input }) => String(input).split("\n") },
 *   { name: "clean", run: ({ value }) => (value as string[]).map((line) => line.trim()).filter(Boolean) },
 * ] });
 * const { state } = await run(graph, { input: " a \n\n b " }, { checkpointer, threadId: "t1" });
 * state.value; // ["a", "b"]
 */
export function createSequentialGraph<I = unknown>(options: SequentialOptions<I>) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid sequential pipeline: ${z.prettifyError(parsed.error)}. Pass { stages: [{ name, run(state, context) }, …] }.`);
  const { stages, name = "sequential" } = options;

  const nodeFor = (stage: SequentialStage<I>, index: number) => async (state: State, config: LangGraphRunnableConfig) => {
    const next = stages[index + 1]?.name ?? "finish";
    let output: unknown;
    try {
      const view: SequentialStageState<I> = { input: state.input as I, value: state.value, outputs: state.outputs, completed: state.completed };
      output = await stage.run(view, { stage: stage.name, index, config, ...(config.signal ? { signal: config.signal } : {}) });
    } catch (error) {
      // Interrupts (approvals) and Conclave's own errors (budget, step limit) already say what to do.
      if (isGraphBubbleUp(error) || isConclaveError(error)) throw error;
      throw new StageFailedError(stage.name, index, stages.length, error);
    }
    reportEvent(config, { type: "decision", by: name, next, reason: `stage ${stage.name} done → ${next}` });
    return { value: output, outputs: { [stage.name]: output }, completed: [stage.name] };
  };

  // addNode's types track node names; a pipeline's names are data, so the builder is typed loosely here.
  const builder = new StateGraph(SequentialState) as unknown as StateGraph<typeof SequentialState, State, Partial<State>, string>;
  stages.forEach((stage, index) => builder.addNode(stage.name, observeNode(stage.name, nodeFor(stage, index))));
  builder.addEdge(START, stages[0]!.name);
  stages.forEach((stage, index) => builder.addEdge(stage.name, stages[index + 1]?.name ?? END));
  const graph = builder.compile({ name });
  // One superstep per stage, plus the start and a spare.
  return setStepBudget(graph, stages.length + 2);
}
