import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, ReducedValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError, OutputValidationError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import type { ReviewQueue } from "./review-queue.ts";

/** What every tier answers: the answer and how sure it is (0..1). */
export const CascadeAnswerSchema = z.object({
  answer: z.string().describe("The answer to the task."),
  confidence: z.number().min(0).max(1).describe("How likely the answer is correct, from 0 (a guess) to 1 (certain)."),
});

/** One tier's attempt. Which tier answered is kept so evals can count how often the cheap one sufficed. */
export const CascadeAttemptSchema = z.object({
  tier: z.string(),
  answer: z.string(),
  /** The confidence the cascade judged by: the custom `confidence` function's, else the stated one. */
  confidence: z.number(),
  /** What the model itself said, when it answered. */
  statedConfidence: z.number().optional(),
  /** Why the tier gave no answer ("budget", or the step-limit / invalid-output message). */
  error: z.string().optional(),
});

/** How the cascade ended. */
export const CascadeFinalSchema = z.object({
  answer: z.string(),
  tier: z.string(),
  confidence: z.number(),
  status: z.enum(["confident", "needs-review"]),
});

export type CascadeAttempt = z.infer<typeof CascadeAttemptSchema>;
export type CascadeFinal = z.infer<typeof CascadeFinalSchema>;

/** The state of a cascade. `attempts` keeps every tier's answer, cheapest first. */
export const CascadeState = new StateSchema({
  task: z.string(),
  attempts: new ReducedValue(z.array(CascadeAttemptSchema).default(() => []), { inputSchema: z.array(CascadeAttemptSchema), reducer: (current: CascadeAttempt[], next: CascadeAttempt[]) => [...current, ...next] }),
  final: CascadeFinalSchema.optional(),
  /** The review queue's id for the task, when it was sent to review. */
  reviewId: z.string().optional(),
});
type State = typeof CascadeState.State;

/** One model in the cascade. The name labels its attempts, events and usage (letters, digits, `_`, `-`). */
export interface CascadeTier {
  name: string;
  model: BaseChatModel;
}

export interface CascadeOptions {
  /** Cheapest first. */
  tiers: CascadeTier[];
  /** The system prompt of every tier (default: answer and state an honest confidence). */
  instructions?: string;
  /** Confidence needed to stop at a tier. Default 0.7. */
  threshold?: number;
  /**
   * Judges an answer, overriding the model's stated confidence (a verifier, a self-consistency
   * check, a classifier). Results are clamped to 0..1.
   */
  confidence?: (answer: { text: string; confidence?: number }, task: string) => number | Promise<number>;
  /** When no tier is confident, the task goes here for a person to answer. */
  reviewQueue?: ReviewQueue;
}

/** The default `threshold` of `createCascadeGraph`. */
export const DEFAULT_CASCADE_THRESHOLD = 0.7;

const DEFAULT_INSTRUCTIONS = [
  "Answer the task. Put the answer in `answer`, and in `confidence` how likely it is to be correct, from 0 (a guess) to 1 (certain).",
  "Be honest: a low confidence hands the task to a stronger model; an overstated one ships a wrong answer.",
].join(" ");

/**
 * A model cascade (progressive enhancement): the cheapest tier answers first with a stated
 * confidence; below `threshold` the task escalates to the next tier (a `decision` event says why),
 * and the first confident answer finishes. When no tier is confident the most confident answer is
 * returned as "needs-review" and the task is added to `reviewQueue`. A tier that cannot answer
 * (invalid output, step limit) counts as confidence 0; a spent budget stops the escalation.
 *
 * @example
 * const graph = createCascadeGraph({ tiers: [{ name: "small", model: small }, { name: "large", model: large }] });
 * const { state } = await run(graph, { task: "What is 17 * 23?" });
 */
export function createCascadeGraph(options: CascadeOptions) {
  const { tiers, instructions = DEFAULT_INSTRUCTIONS, threshold = DEFAULT_CASCADE_THRESHOLD, confidence: judge, reviewQueue } = options;
  if (!tiers?.length) throw new DefinitionError("A cascade needs at least one tier. Pass { tiers: [{ name, model }, …] }, cheapest first.");
  if (new Set(tiers.map((tier) => tier.name)).size !== tiers.length) throw new DefinitionError("Cascade tiers need distinct names: they label attempts, events and usage.");
  if (!(threshold >= 0 && threshold <= 1)) throw new DefinitionError(`The cascade threshold must be between 0 and 1; got ${threshold}.`);
  // No tools and an outputSchema: each tier answers with one structured call (plus one retry if invalid).
  const tierGraphs = tiers.map((tier) => createAgentGraph(defineAgent({ name: tier.name, instructions, tools: [], model: tier.model, outputSchema: CascadeAnswerSchema, maxSteps: 1 })));

  const attempt = async (state: State, config: LangGraphRunnableConfig) => {
    const index = state.attempts.length;
    const tier = tiers[index]!;
    let entry: CascadeAttempt;
    try {
      const result = await tierGraphs[index]!.invoke({ messages: [new HumanMessage(state.task)] }, config);
      const stated = result.structuredResponse!;
      const judged = judge ? await judge({ text: stated.answer, confidence: stated.confidence }, state.task) : stated.confidence;
      entry = { tier: tier.name, answer: stated.answer, confidence: clamp(judged), statedConfidence: stated.confidence };
    } catch (error) {
      // A tier that cannot answer is what escalation is for; only a spent budget stops the cascade.
      if (!(error instanceof MaxStepsExceededError) && !(error instanceof OutputValidationError) && !isBudgetExceeded(error)) throw error;
      entry = { tier: tier.name, answer: "", confidence: 0, error: isBudgetExceeded(error) ? "budget" : error.message.slice(0, 200) };
    }
    const confident = !entry.error && entry.confidence >= threshold;
    const last = index + 1 >= tiers.length || entry.error === "budget";
    const next = confident ? "finish" : last ? "review" : tiers[index + 1]!.name;
    const scored = `${tier.name}: ${entry.error ? `no answer (${entry.error === "budget" ? "budget spent" : "failed"})` : `confidence ${entry.confidence.toFixed(2)}`}`;
    const reason = confident ? `${scored} ≥ threshold ${threshold.toFixed(2)}` : `${scored} < threshold ${threshold.toFixed(2)}; ${last ? (entry.error === "budget" ? "no budget left to escalate" : "no tier left") : `escalating to ${next}`}`;
    reportEvent(config, { type: "decision", by: "cascade", next, reason });
    return { attempts: [entry], ...(confident ? { final: { answer: entry.answer, tier: tier.name, confidence: entry.confidence, status: "confident" as const } } : {}) };
  };

  const review = async (state: State, config: LangGraphRunnableConfig) => {
    const answered = state.attempts.filter((entry) => !entry.error);
    // Ties go to the later tier: at equal confidence the larger model is the better bet.
    const best = (answered.length ? answered : state.attempts).reduce((top, entry) => (entry.confidence >= top.confidence ? entry : top));
    const scores = state.attempts.map((entry) => `${entry.tier} ${entry.error ? "no answer" : entry.confidence.toFixed(2)}`).join(", ");
    const reason = `no tier reached confidence ${threshold.toFixed(2)} (${scores})`;
    const item = reviewQueue ? await reviewQueue.add({ task: state.task, candidates: answered.map((entry) => ({ model: entry.tier, answer: entry.answer, confidence: entry.confidence })), reason }) : undefined;
    reportEvent(config, { type: "decision", by: "cascade", next: "finish", reason: `${reason}; answering with ${best.tier}'s answer, the most confident, for review${item ? ` (queued as ${item.id})` : ""}` });
    return { final: { answer: best.answer, tier: best.tier, confidence: best.confidence, status: "needs-review" as const }, ...(item ? { reviewId: item.id } : {}) };
  };

  const route = (state: State) => {
    if (state.final) return END;
    const last = state.attempts.at(-1);
    return state.attempts.length >= tiers.length || last?.error === "budget" ? "review" : "attempt";
  };

  const graph = new StateGraph(CascadeState)
    .addNode("attempt", observeNode("attempt", attempt))
    .addNode("review", observeNode("review", review))
    .addEdge(START, "attempt")
    .addConditionalEdges("attempt", route, ["attempt", "review", END])
    .addEdge("review", END)
    .compile({ name: "cascade" });
  // One superstep per tier, then review, plus one spare; each tier's own loop needs its budget too.
  const inner = Math.max(...tierGraphs.map((tierGraph) => stepBudgetOf(tierGraph) ?? 0));
  return setStepBudget(graph, Math.max(inner, tiers.length + 3));
}

function clamp(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
