import { END, ReducedValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError, DefinitionError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { agentAsker, describeIssues, isAgent, stepContext } from "./agent-step.ts";
import type { AnyAgent, StepContext } from "./agent-step.ts";

/** One evaluated version of the text. */
export const RefinementDraftSchema = z.object({
  /** 1 = the first draft; each later round is one critique and revision. */
  round: z.number().int(),
  text: z.string(),
  score: z.number(),
  /** Score minus the previous round's (absent in round 1). */
  gain: z.number().optional(),
  /** The critique this version answered (absent in round 1). */
  critique: z.string().optional(),
});

export const RefinementFinalSchema = z.object({ text: z.string(), score: z.number(), round: z.number().int() });

export type RefinementDraft = z.infer<typeof RefinementDraftSchema>;
export type RefinementStopReason = "converged" | "max-iterations" | "target-reached" | "budget";

/** The state of a refinement loop. `drafts` keeps every evaluated version; `final` is the best of them. */
export const RefinementState = new StateSchema({
  task: z.string(),
  round: z.number().int().default(0),
  /** The version waiting to be evaluated. */
  candidate: z.string().default(""),
  /** The latest critique, which the next revision answers (not named "critique": that is a node). */
  feedback: z.string().default(""),
  drafts: new ReducedValue(z.array(RefinementDraftSchema).default(() => []), { inputSchema: z.array(RefinementDraftSchema), reducer: (current: RefinementDraft[], next: RefinementDraft[]) => [...current, ...next] }),
  final: RefinementFinalSchema.optional(),
  stopReason: z.enum(["converged", "max-iterations", "target-reached", "budget"]).optional(),
});
type State = typeof RefinementState.State;

/** What the critique step reads: the task and the latest version with its score. */
export interface RefinementCritiqueInput {
  task: string;
  draft: string;
  score: number;
  round: number;
}

/** What the refine step reads: the latest version, its score and the critique to answer. */
export interface RefinementReviseInput extends RefinementCritiqueInput {
  critique: string;
}

/** A step of the loop: an agent (given the pattern's prompt) or your own function returning text. */
export type RefinementStep<I> = AnyAgent | ((input: I, context: StepContext) => string | Promise<string>);

export interface RefinementOptions {
  /** Writes the first version from the task. */
  draft: RefinementStep<{ task: string }>;
  /** Says what is wrong with the latest version. */
  critique: RefinementStep<RefinementCritiqueInput>;
  /** Rewrites the latest version to answer the critique. */
  refine: RefinementStep<RefinementReviseInput>;
  /** Scores a version, higher is better (a pure function, a test suite, a model grader through `context.config`). */
  evaluate: (draft: string, context: StepContext & { task: string; round: number }) => number | Promise<number>;
  /** Most versions evaluated, the first draft included. Default 3. */
  maxIterations?: number;
  /** A round must raise the score by at least this much, or the loop has converged and stops. Default 0.01. */
  minImprovement?: number;
  /** Stop as soon as a version scores at least this. */
  targetScore?: number;
}

/** `evaluate` returned something that is not a number. */
export class RefinementScoreError extends ConclaveError {
  override name = "RefinementScoreError";
  constructor(round: number, score: unknown) {
    super("REFINEMENT_SCORE_INVALID", "user", `The refinement evaluator returned ${String(score)} for round ${round}; it must return a finite number, higher meaning better. Fix the evaluate function.`, { details: { round, score: String(score) } });
  }
}

const Step = z.custom<RefinementStep<never>>((value) => typeof value === "function" || isAgent(value), "must be an agent (defineAgent) or a function (input, context) => text");
const OptionsSchema = z.object({
  draft: Step,
  critique: Step,
  refine: Step,
  evaluate: z.custom<RefinementOptions["evaluate"]>((value) => typeof value === "function", "must be a function (draft, context) => score"),
  maxIterations: z.number().int().min(1).default(3),
  minImprovement: z.number().min(0).default(0.01),
  targetScore: z.number().optional(),
});

// Scores are often sums of fractions: 0.75 - 0.7 must count as a gain of 0.05.
const TOLERANCE = 1e-9;

/**
 * Iterative refinement (Self-Refine, Madaan et al. 2023): `draft` writes a first version; then
 * each round `critique` says what is wrong with the latest version and `refine` rewrites it, and
 * `evaluate` scores every version. The loop stops when a round gains less than `minImprovement`
 * (converged), at `maxIterations`, at `targetScore`, or when the budget runs out; each round ends
 * with a `round-end` event (score, gain, best) and a `decision` saying why it goes on or stops.
 * The best-scoring version is the result (`final`), which need not be the last.
 *
 * Reuses: StateGraph conditional edges for the loop, agents (`createAgentGraph`) for model steps,
 * `observeNode`, `reportEvent`, and the run budget (a spent budget ends the loop with the best so far).
 *
 * @example
 * const graph = createRefinementGraph({
 *   draft: writer, critique: critic, refine: writer,
 *   evaluate: (text) => Math.min(1, 60 / text.split(/\s+/).length),
 *   maxIterations: 4, minImprovement: 0.05,
 * });
 * const { state } = await run(graph, { task: "Explain checkpoints in one paragraph." });
 * state.final; // { text, score, round }
 */
export function createRefinementGraph(options: RefinementOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid refinement options: ${describeIssues(parsed.error)}. Pass { draft, critique, refine, evaluate, maxIterations?, minImprovement? }.`);
  const { maxIterations, minImprovement, targetScore } = parsed.data;
  const draftStep = stepRunner(options.draft, ({ task }) => task);
  const critiqueStep = stepRunner(options.critique, critiquePrompt);
  const refineStep = stepRunner(options.refine, revisePrompt);

  // A spent budget ends the loop gracefully: the best version so far is still the answer.
  const guarded = async (config: LangGraphRunnableConfig, work: () => Promise<Partial<State>>): Promise<Partial<State>> => {
    try {
      return await work();
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      reportEvent(config, { type: "decision", by: "refinement", next: "finish", reason: "budget spent; keeping the best version so far" });
      return { stopReason: "budget" };
    }
  };

  const draft = (state: State, config: LangGraphRunnableConfig) => guarded(config, async () => ({ candidate: await draftStep({ task: state.task }, config), round: 1, feedback: "" }));

  const critique = (state: State, config: LangGraphRunnableConfig) =>
    guarded(config, async () => {
      const latest = state.drafts.at(-1)!;
      return { feedback: await critiqueStep({ task: state.task, draft: latest.text, score: latest.score, round: latest.round }, config) };
    });

  const refine = (state: State, config: LangGraphRunnableConfig) =>
    guarded(config, async () => {
      const latest = state.drafts.at(-1)!;
      return { candidate: await refineStep({ task: state.task, draft: latest.text, score: latest.score, round: latest.round, critique: state.feedback }, config), round: state.round + 1 };
    });

  const evaluate = async (state: State, config: LangGraphRunnableConfig) => {
    const round = state.round;
    const score = await options.evaluate(state.candidate, { task: state.task, round, ...stepContext(config) });
    if (typeof score !== "number" || !Number.isFinite(score)) throw new RefinementScoreError(round, score);
    const previous = state.drafts.at(-1);
    const gain = previous ? score - previous.score : undefined;
    const best = Math.max(score, ...state.drafts.map((entry) => entry.score));
    const entry: RefinementDraft = { round, text: state.candidate, score, ...(gain !== undefined ? { gain } : {}), ...(state.feedback ? { critique: state.feedback } : {}) };
    const stop: RefinementStopReason | undefined =
      targetScore !== undefined && score >= targetScore - TOLERANCE ? "target-reached"
      : gain !== undefined && gain < minImprovement - TOLERANCE ? "converged"
      : round >= maxIterations ? "max-iterations"
      : undefined;
    const gained = gain === undefined ? "first draft" : `gain ${signed(gain)}`;
    reportEvent(config, { type: "round-end", loop: "refinement", round, measures: { score, best, ...(gain !== undefined ? { gain } : {}) }, summary: `score ${score.toFixed(3)} · ${gained} · best ${best.toFixed(3)}` });
    const reason =
      stop === "target-reached" ? `score ${score.toFixed(3)} reached the target ${targetScore}`
      : stop === "converged" ? `converged: gain ${signed(gain!)} < minImprovement ${minImprovement}`
      : stop === "max-iterations" ? `reached maxIterations ${maxIterations}`
      : `${gained} (score ${score.toFixed(3)}); round ${round + 1} of at most ${maxIterations}`;
    reportEvent(config, { type: "decision", by: "refinement", next: stop ? "finish" : "critique", round, reason });
    return { drafts: [entry], ...(stop ? { stopReason: stop } : {}) };
  };

  const finish = (state: State, config: LangGraphRunnableConfig) => {
    if (!state.drafts.length) return {};
    // Ties go to the earlier version: the later one bought nothing.
    const best = state.drafts.reduce((top, entry) => (entry.score > top.score ? entry : top));
    reportEvent(config, { type: "decision", by: "refinement", next: "finish", reason: `stopped (${state.stopReason ?? "unknown"}); best version is round ${best.round} of ${state.drafts.length}, score ${best.score.toFixed(3)}` });
    return { final: { text: best.text, score: best.score, round: best.round } };
  };

  const unlessStopped = (next: string) => (state: State) => (state.stopReason ? "finish" : next);
  const graph = new StateGraph(RefinementState)
    .addNode("draft", observeNode("draft", draft))
    .addNode("evaluate", observeNode("evaluate", evaluate))
    .addNode("critique", observeNode("critique", critique))
    .addNode("refine", observeNode("refine", refine))
    .addNode("finish", observeNode("finish", finish))
    .addEdge(START, "draft")
    .addConditionalEdges("draft", unlessStopped("evaluate"), ["evaluate", "finish"])
    .addConditionalEdges("evaluate", unlessStopped("critique"), ["critique", "finish"])
    .addConditionalEdges("critique", unlessStopped("refine"), ["refine", "finish"])
    .addConditionalEdges("refine", unlessStopped("evaluate"), ["evaluate", "finish"])
    .addEdge("finish", END)
    .compile({ name: "refinement" });
  // draft + evaluate, then critique + refine + evaluate per later round, finish, and spares.
  const inner = Math.max(0, ...[draftStep, critiqueStep, refineStep].map((step) => step.budget));
  return setStepBudget(graph, Math.max(inner, 3 * maxIterations + 3));
}

/** Runs a step: an agent gets the pattern's prompt, a function gets the input itself. */
function stepRunner<I>(step: RefinementStep<I>, prompt: (input: I) => string) {
  if (isAgent(step)) {
    const ask = agentAsker(step);
    return Object.assign(async (input: I, config: LangGraphRunnableConfig) => (await ask(prompt(input), config)).text, { budget: stepBudgetOf(ask.graph) ?? 0 });
  }
  return Object.assign(async (input: I, config: LangGraphRunnableConfig) => String(await step(input, stepContext(config))), { budget: 0 });
}

// The text under review is quoted last, behind a label, so it reads as material rather than
// instructions, and nothing written after it can be taken for part of it. The critique is not
// quoted: it is what the revision is asked to do.
function critiquePrompt({ task, draft, score, round }: RefinementCritiqueInput): string {
  return `Critique the draft at the end (round ${round}, score ${score.toFixed(3)}) against the task: name each concrete problem and how to fix it. Do not rewrite the draft.\n\nTask:\n${task}\n\n[draft] ${draft}`;
}

function revisePrompt({ task, draft, score, critique }: RefinementReviseInput): string {
  return `Rewrite the draft at the end (score ${score.toFixed(3)}) so that it fixes every problem the critique names and still does the task. Reply with the revised text only.\n\nCritique:\n${critique}\n\nTask:\n${task}\n\n[draft] ${draft}`;
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(3)}`;
}
