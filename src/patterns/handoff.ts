import { HumanMessage } from "@langchain/core/messages";
import { END, ReducedValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import type { Agent } from "../agent/define-agent.ts";
import { DefinitionError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";

/** What a review stage must answer (its schema may add fields). */
export const HandoffReviewSchema = z.object({
  approved: z.boolean().describe("True when the work is good enough as it is."),
  feedback: z.string().describe("What to change, specifically and briefly; empty when approved."),
});
export type HandoffReview = z.output<typeof HandoffReviewSchema>;

export type HandoffStage = "plan" | "execute" | "review" | "refine";
export type HandoffTermination = "approved" | "max-refinements" | "budget";

/** One hand-over, with the typed payload the sending stage produced. `round` counts refinements before it. */
export type Handoff<P, W, R> =
  | { from: "plan"; to: "execute"; round: number; payload: P }
  | { from: "execute" | "refine"; to: "review"; round: number; payload: W }
  | { from: "review"; to: "refine" | "finish"; round: number; payload: R };

/** The four stages; each agent needs an `outputSchema`, which types what it hands on. */
export interface HandoffStages<P extends z.ZodType, W extends z.ZodType, R extends z.ZodType<HandoffReview>> {
  plan: Agent<P>;
  execute: Agent<W>;
  review: Agent<R>;
  /** Revises the work from the review's feedback; same payload type as `execute` (default: `execute` again). */
  refine?: Agent<W>;
}

export interface HandoffOptions<P extends z.ZodType, W extends z.ZodType, R extends z.ZodType<HandoffReview>> {
  stages: HandoffStages<P, W, R>;
  /** Most times review may send the work back. Default 2. */
  maxRefinements?: number;
  /** The compiled graph's name (default "handoff"). */
  name?: string;
}

/** The state of a handoff chain: the latest payload of each kind, typed, and every hand-over in order. */
export function handoffState<P, W, R>() {
  const handoff = z.custom<Handoff<P, W, R>>();
  return new StateSchema({
    task: z.string(),
    plan: z.custom<P>().optional(),
    /** The latest work: execute's, or refine's after a rejection. */
    work: z.custom<W>().optional(),
    review: z.custom<R>().optional(),
    refinements: z.number().int().default(0),
    handoffs: new ReducedValue(z.array(handoff).default(() => []), { inputSchema: z.array(handoff), reducer: (current: Handoff<P, W, R>[], next: Handoff<P, W, R>[]) => [...current, ...next] }),
    terminationReason: z.enum(["approved", "max-refinements", "budget"]).optional(),
  });
}

const NODES: Record<HandoffStage, string> = { plan: "planner", execute: "executor", review: "reviewer", refine: "refiner" };

const agentLike = (stage: string) => z.custom<Agent<z.ZodType>>((value) => (value as { kind?: unknown } | undefined)?.kind === "conclave.agent" && (value as { outputSchema?: unknown }).outputSchema instanceof z.ZodType, `the ${stage} stage must be an agent (defineAgent) with an outputSchema: the schema types what it hands on`);
const OptionsSchema = z.object({
  stages: z.object({ plan: agentLike("plan"), execute: agentLike("execute"), review: agentLike("review"), refine: agentLike("refine").optional() }),
  maxRefinements: z.number().int().min(0).optional(),
  name: z.string().min(1).optional(),
});

/**
 * A sequential handoff: plan → execute → review, each agent handing the next a payload typed by
 * its `outputSchema`; when review does not approve, refine revises the work from the feedback and
 * review looks again, at most `maxRefinements` times. Every hand-over is kept in `handoffs` and is
 * a `decision` event (review's with its feedback). A stage reads the task and the payloads so far
 * as `[stage] field: value` lines. A spent budget ends the chain with the latest work. The nodes
 * are named for the roles (planner, executor, reviewer, refiner).
 * Reuses: agents (structured output, zod validation and retry) for every stage, StateGraph
 * conditional edges for the loop, `observeNode`, `reportEvent`.
 *
 * @example
 * const graph = createHandoffGraph({ stages: { plan: planner, execute: worker, review: reviewer }, maxRefinements: 2 });
 * const { state } = await run(graph, { task: "Summarise the Apollo 11 mission." });
 * state.work; state.review?.approved; state.handoffs; // typed by the stages' schemas
 */
export function createHandoffGraph<P extends z.ZodType, W extends z.ZodType, R extends z.ZodType<HandoffReview>>(options: HandoffOptions<P, W, R>) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid handoff chain: ${z.prettifyError(parsed.error)}. Pass { stages: { plan, execute, review, refine? }, maxRefinements? } with agents that have an outputSchema.`);
  type Plan = z.output<P>;
  type Work = z.output<W>;
  type Review = z.output<R>;
  const { stages, maxRefinements = 2, name = "handoff" } = options;
  const State = handoffState<Plan, Work, Review>();
  type S = typeof State.State;
  const graphs = { plan: createAgentGraph(stages.plan), execute: createAgentGraph(stages.execute), review: createAgentGraph(stages.review), refine: createAgentGraph(stages.refine ?? stages.execute) };

  /** Runs one stage on the handoffs so far; `undefined` when the budget is spent. */
  const call = async <T>(stage: HandoffStage, state: S, config: LangGraphRunnableConfig): Promise<T | undefined> => {
    try {
      const result = await graphs[stage].invoke({ messages: [new HumanMessage(stagePrompt(state))] }, config);
      return result.structuredResponse as T;
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      reportEvent(config, { type: "decision", by: NODES[stage], next: "finish", round: state.refinements, reason: `the run's budget is spent during ${stage}; finishing with the latest work` });
      return undefined;
    }
  };

  const plan = async (state: S, config: LangGraphRunnableConfig) => {
    const payload = await call<Plan>("plan", state, config);
    if (payload === undefined) return { terminationReason: "budget" as const };
    reportEvent(config, { type: "decision", by: "planner", next: "executor", round: 0, reason: "plan ready; handing it to execute" });
    return { plan: payload, handoffs: [{ from: "plan" as const, to: "execute" as const, round: 0, payload }] };
  };

  const work = (stage: "execute" | "refine") => async (state: S, config: LangGraphRunnableConfig) => {
    const round = stage === "refine" ? state.refinements + 1 : 0;
    const payload = await call<Work>(stage, state, config);
    if (payload === undefined) return { terminationReason: "budget" as const };
    reportEvent(config, { type: "decision", by: NODES[stage], next: "reviewer", round, reason: stage === "refine" ? `refinement ${round} of at most ${maxRefinements} done; handing it to review` : "work done; handing it to review" });
    return { work: payload, handoffs: [{ from: stage, to: "review" as const, round, payload }], ...(stage === "refine" ? { refinements: round } : {}) };
  };

  const review = async (state: S, config: LangGraphRunnableConfig) => {
    const payload = await call<Review>("review", state, config);
    if (payload === undefined) return { terminationReason: "budget" as const };
    const { approved, feedback } = payload as HandoffReview;
    const limited = !approved && state.refinements >= maxRefinements;
    const next = approved || limited ? "finish" : "refine";
    const said = brief(feedback);
    const reason = approved ? `approved${said ? `: ${said}` : ""}` : limited ? `not approved (${said || "no feedback"}), but the refinement limit (${maxRefinements}) is reached; finishing with the latest work` : `sent back to refine: ${said || "no feedback given"}`;
    reportEvent(config, { type: "decision", by: "reviewer", next: next === "refine" ? "refiner" : "finish", round: state.refinements, reason });
    return { review: payload, handoffs: [{ from: "review" as const, to: next, round: state.refinements, payload }], ...(next === "finish" ? { terminationReason: approved ? ("approved" as const) : ("max-refinements" as const) } : {}) };
  };

  // Nodes are named for the roles, since `plan` and `review` name the state's payloads.
  const after = (next: string) => (state: S) => (state.terminationReason ? END : next);
  const graph = new StateGraph(State)
    .addNode("planner", observeNode("planner", plan))
    .addNode("executor", observeNode("executor", work("execute")))
    .addNode("reviewer", observeNode("reviewer", review))
    .addNode("refiner", observeNode("refiner", work("refine")))
    .addEdge(START, "planner")
    .addConditionalEdges("planner", after("executor"), ["executor", END])
    .addConditionalEdges("executor", after("reviewer"), ["reviewer", END])
    .addConditionalEdges("reviewer", after("refiner"), ["refiner", END])
    .addConditionalEdges("refiner", after("reviewer"), ["reviewer", END])
    .compile({ name });
  const inner = Math.max(...Object.values(graphs).map((stageGraph) => stepBudgetOf(stageGraph) ?? 0));
  // plan, execute, review, then refine + review per refinement, start and a spare.
  return setStepBudget(graph, Math.max(inner, 5 + maxRefinements * 2));
}

/**
 * The task, then every payload handed on so far as `[stage] field: value` lines (the latest work
 * and review only): quoted passages a model can cite, and that carry fields from stage to stage.
 */
function stagePrompt(state: { task: string; plan?: unknown; work?: unknown; review?: unknown; handoffs: Array<{ from: string }> }): string {
  const lastWork = state.handoffs.findLast((handoff) => handoff.from === "execute" || handoff.from === "refine")?.from ?? "execute";
  const blocks: Array<[string, unknown]> = [["plan", state.plan], [lastWork, state.work], ["review", state.review]];
  const quoted = blocks.filter(([, payload]) => payload !== undefined).flatMap(([stage, payload]) => payloadLines(stage, payload));
  return quoted.length ? `Task: ${state.task}\n\nHanded over so far:\n${quoted.join("\n")}` : `Task: ${state.task}`;
}

function payloadLines(stage: string, payload: unknown): string[] {
  if (typeof payload !== "object" || payload === null) return [`[${stage}] ${String(payload)}`];
  return Object.entries(payload).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((item) => `[${stage}] ${key}: ${typeof item === "string" ? item.replace(/\s*\n\s*/g, " ") : JSON.stringify(item)}`));
}

/** Feedback on one line, short enough for an event (the whole review stays in the state). */
function brief(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
