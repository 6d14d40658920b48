import { END, ReducedValue, Send, START, StateGraph, StateSchema, isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError, DefinitionError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";

/** What a branch is told: its name, a signal that aborts at its timeout (or when the run is cancelled), and the node's config for agents and model calls. */
export interface BranchContext {
  branch: string;
  signal: AbortSignal;
  config: LangGraphRunnableConfig;
}

/** One independent branch: it gets the run's input; its result is checkpointed, so keep it JSON-serialisable. */
export type ParallelBranch<I> = (input: I, context: BranchContext) => unknown;

/** How one branch ended, with its time window (ms since the epoch) so overlap can be checked. */
export const BranchOutcomeSchema = z.object({
  branch: z.string(),
  status: z.enum(["ok", "error", "timeout"]),
  value: z.unknown().optional(),
  error: z.string().optional(),
  startedAt: z.number(),
  endedAt: z.number(),
  durationMs: z.number(),
});
export type BranchOutcome = z.infer<typeof BranchOutcomeSchema>;

/** What to do when branches fail: stop at the first failure, merge whatever succeeded, or need `quorum` successes. */
export type ParallelPolicy = "fail-fast" | "collect-errors" | { quorum: number };

/** The input every branch accepts: the intersection of their first parameters' types (`unknown` when none says). */
export type BranchInput<B> = { [K in keyof B]: (input: FirstParameter<B[K]>) => void }[keyof B] extends (input: infer I) => void ? I : never;
type FirstParameter<F> = F extends (input: infer X, ...rest: never[]) => unknown ? X : unknown;

/** The successful branches' values, by branch name (a failed branch is absent). */
export type BranchValues<B> = { [K in keyof B]?: B[K] extends (...args: never[]) => infer R ? Awaited<R> : never };

/** What `merge` is told besides the values: the input, every outcome (in branch order), the failures, and the node's config. */
export interface MergeReport<I> {
  input: I;
  outcomes: BranchOutcome[];
  errors: BranchOutcome[];
  config: LangGraphRunnableConfig;
}

export interface ParallelOptions<B extends Record<string, ParallelBranch<never>>, O> {
  /** Independent branches, by name (letters, digits, `_`, `-`; not "merge"); at least one. */
  branches: B;
  /** Each branch's time limit in ms: past it the branch's signal aborts and it counts as timed out. */
  timeoutMs?: number;
  /** Default "fail-fast". */
  policy?: ParallelPolicy;
  /** Combines the successful values into the result (`state.output`). */
  merge: (values: BranchValues<B>, report: MergeReport<BranchInput<B>>) => O | Promise<O>;
  /** The compiled graph's name (default "parallel"). */
  name?: string;
}

/** A branch failed or timed out under the "fail-fast" policy. */
export class ParallelBranchError extends ConclaveError {
  override name = "ParallelBranchError";
  constructor(outcome: BranchOutcome, cause?: unknown) {
    super("PARALLEL_BRANCH_FAILED", "user", `Branch "${outcome.branch}" ${outcome.status === "timeout" ? "timed out" : "failed"}: ${outcome.error}. The policy is "fail-fast", so the run stops; use policy "collect-errors" or { quorum: n } to merge what succeeded instead.`, { cause, details: { branch: outcome.branch, status: outcome.status } });
  }
}

/** Fewer branches succeeded than the quorum needs. */
export class QuorumNotMetError extends ConclaveError {
  override name = "QuorumNotMetError";
  constructor(quorum: number, outcomes: BranchOutcome[]) {
    const ok = outcomes.filter((outcome) => outcome.status === "ok").length;
    super("QUORUM_NOT_MET", "user", `Only ${ok} of ${outcomes.length} branches succeeded; the quorum is ${quorum}. Failures: ${describeFailures(outcomes)}. Fix the failing branches, raise timeoutMs, or lower the quorum.`, { details: { quorum, succeeded: ok, failed: outcomes.filter((outcome) => outcome.status !== "ok").map(({ branch, status, error }) => ({ branch, status, error })) } });
  }
}

const append = <T>(schema: z.ZodType<T>) => new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });

/** The state of a parallel fan-out: the input, each branch's outcome (in finishing order) and the merged output. */
export function parallelStateSchema<I, O>() {
  return new StateSchema({ input: z.custom<I>(), outcomes: append(BranchOutcomeSchema), output: z.custom<O>().optional() });
}

const NODE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
// LangGraph forbids a node named like a state key.
const RESERVED = ["merge", "input", "outcomes", "output"];
const OptionsSchema = z.object({
  branches: z
    .record(z.string(), z.custom<ParallelBranch<unknown>>((value) => typeof value === "function", "each branch must be a function (input, context) => result"))
    .superRefine((branches, context) => {
      const names = Object.keys(branches);
      if (names.length === 0) context.addIssue({ code: "custom", message: "give at least one branch" });
      for (const name of names) {
        if (!NODE_NAME.test(name)) context.addIssue({ code: "custom", path: [name], message: 'branch names use 1-64 letters, digits, "_" or "-"' });
        if (RESERVED.includes(name)) context.addIssue({ code: "custom", path: [name], message: `"${name}" is taken (the merge node and the state's keys: ${RESERVED.join(", ")}); call the branch something else` });
      }
    }),
  timeoutMs: z.number().int().positive().optional(),
  policy: z.union([z.literal("fail-fast"), z.literal("collect-errors"), z.object({ quorum: z.number().int().min(1) })]).optional(),
  merge: z.custom<unknown>((value) => typeof value === "function", "merge must be a function (values, report) => result"),
  name: z.string().min(1).optional(),
});

/**
 * Parallel fan-out and merge: every branch runs at once on the same input (one `Send` per branch,
 * all in one LangGraph superstep), each with its own timeout (an `AbortSignal` it should pass to
 * its requests; a branch that ignores it is still cut off). The policy decides what a failure
 * does — "fail-fast" fails the run on the first (`ParallelBranchError`), "collect-errors" merges the
 * successes and lists the errors, `{ quorum: n }` merges when at least n succeeded and otherwise
 * fails (`QuorumNotMetError`) — and `merge` turns the successes into one typed output. The outcome is
 * a `decision` event; every branch's status and time window stays in `state.outcomes`.
 *
 * Reuses: `Send` and the superstep for concurrency, reducers for the outcomes, `observeNode`,
 * `reportEvent`, and checkpoints (finished branches are not re-run on resume).
 *
 * @example
 * const graph = createParallelGraph({
 *   branches: { words: (text: string) => text.split(/\s+/).length, lines: (text: string) => text.split("\n").length },
 *   timeoutMs: 5_000, policy: "collect-errors",
 *   merge: (values, { errors }) => ({ ...values, failed: errors.map((error) => error.branch) }),
 * });
 * const { state } = await run(graph, { input: "one two\nthree" }); // state.output: { words: 3, lines: 2, failed: [] }
 */
export function createParallelGraph<B extends Record<string, ParallelBranch<never>>, O>(options: ParallelOptions<B, O>) {
  type I = BranchInput<B>;
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid parallel graph: ${z.prettifyError(parsed.error)}. Pass { branches: { name: (input, context) => result }, policy, merge }.`);
  const { branches, timeoutMs, policy = "fail-fast", merge, name = "parallel" } = options;
  const names = Object.keys(branches);
  const quorum = typeof policy === "object" ? policy.quorum : undefined;
  if (quorum !== undefined && quorum > names.length) throw new DefinitionError(`The quorum (${quorum}) is more than the ${names.length} branches: it could never be met. Use a quorum from 1 to ${names.length}.`);
  const State = parallelStateSchema<I, O>();
  type S = typeof State.State;

  const runBranch = (branch: string) => async (task: { input: I }, config: LangGraphRunnableConfig) => {
    const outcome = await attempt(branch, branches[branch]! as ParallelBranch<I>, task.input, timeoutMs, config);
    if (policy === "fail-fast" && outcome.status !== "ok") throw new ParallelBranchError(outcome);
    return { outcomes: [outcome] };
  };

  const mergeNode = async (state: S, config: LangGraphRunnableConfig) => {
    // Branch order, not finishing order, so the merge and the report are deterministic.
    const outcomes = names.map((branch) => state.outcomes.findLast((outcome) => outcome.branch === branch)).filter((outcome): outcome is BranchOutcome => outcome !== undefined);
    const errors = outcomes.filter((outcome) => outcome.status !== "ok");
    const ok = outcomes.length - errors.length;
    const summary = `${ok}/${names.length} branches succeeded${errors.length ? ` (${describeFailures(outcomes)})` : ""}`;
    if (quorum !== undefined && ok < quorum) {
      reportEvent(config, { type: "decision", by: name, next: "fail", reason: `${summary}; quorum ${quorum} not met` });
      throw new QuorumNotMetError(quorum, outcomes);
    }
    const label = quorum !== undefined ? `quorum ${quorum} met` : `policy ${typeof policy === "string" ? policy : "quorum"}`;
    reportEvent(config, { type: "decision", by: name, next: "merge", reason: `${summary}; ${label}` });
    const values = Object.fromEntries(outcomes.filter((outcome) => outcome.status === "ok").map((outcome) => [outcome.branch, outcome.value])) as BranchValues<B>;
    return { output: await merge(values, { input: state.input, outcomes, errors, config }) };
  };

  const builder = new StateGraph(State) as unknown as StateGraph<typeof State, S, Partial<S>, string>;
  // Send hands each branch node its own payload rather than the graph state.
  for (const branch of names) builder.addNode(branch, observeNode(branch, runBranch(branch)) as unknown as (state: S, config: LangGraphRunnableConfig) => Promise<Partial<S>>);
  builder.addNode("merge", observeNode("merge", mergeNode));
  builder.addConditionalEdges(START, (state: S) => names.map((branch) => new Send(branch, { input: state.input })), names);
  for (const branch of names) builder.addEdge(branch, "merge");
  builder.addEdge("merge", END);
  // The start, the branches' superstep, merge, and a spare.
  return setStepBudget(builder.compile({ name }), 4);
}

/** Runs one branch under its timeout; any failure becomes an outcome (the policy decides what it means). */
async function attempt<I>(branch: string, run: ParallelBranch<I>, input: I, timeoutMs: number | undefined, config: LangGraphRunnableConfig): Promise<BranchOutcome> {
  const startedAt = Date.now();
  const controller = new AbortController();
  const signal = config.signal ? AbortSignal.any([controller.signal, config.signal]) : controller.signal;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (timeoutMs === undefined) return;
    timer = setTimeout(() => {
      const error = new Error(`timed out after ${timeoutMs} ms`);
      error.name = "TimeoutError";
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const ended = (status: BranchOutcome["status"], extra: Partial<BranchOutcome>): BranchOutcome => {
    const endedAt = Date.now();
    return { branch, status, ...extra, startedAt, endedAt, durationMs: endedAt - startedAt };
  };
  try {
    // Racing the deadline cuts off a branch that ignores its signal.
    const value = await Promise.race([Promise.resolve().then(() => run(input, { branch, signal, config })), deadline]);
    return ended("ok", { value });
  } catch (error) {
    // A cancelled run, an interrupt or a spent budget is the run's business, not this branch's failure.
    if (config.signal?.aborted || isGraphBubbleUp(error) || isBudgetExceeded(error)) throw error;
    if (controller.signal.aborted) return ended("timeout", { error: `timed out after ${timeoutMs} ms` });
    return ended("error", { error: error instanceof Error ? error.message : String(error) });
  } finally {
    clearTimeout(timer);
  }
}

function describeFailures(outcomes: readonly BranchOutcome[]): string {
  return outcomes.filter((outcome) => outcome.status !== "ok").map((outcome) => `${outcome.branch}: ${outcome.status === "timeout" ? "timed out" : outcome.error}`).join("; ");
}
