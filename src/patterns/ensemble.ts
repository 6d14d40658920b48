import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { END, ReducedValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { agentAsker, describeIssues, isAgent } from "./agent-step.ts";
import type { AnyAgent } from "./agent-step.ts";
import { majority, normalizeAnswer } from "./answers.ts";

/** One member's prediction. */
export const EnsemblePredictionSchema = z.object({
  member: z.string(),
  text: z.string(),
  /** The comparable form; "" does not vote. */
  normalized: z.string(),
  modelCalls: z.number().int(),
  /** Why the member gave no prediction ("budget", "max-steps"). */
  error: z.string().optional(),
});

export const EnsembleDecisionSchema = z.object({
  answer: z.string(),
  normalized: z.string(),
  method: z.enum(["vote", "average", "stack"]),
  /** Share of all members whose normalised prediction equals the answer's (vote, stack). */
  agreement: z.number(),
  /** Normalised prediction → how many members gave it. */
  votes: z.record(z.string(), z.number()),
  /** Average only: the standard deviation of the numbers averaged. */
  spread: z.number().optional(),
  /** Model calls the stacking meta-model made (0 otherwise). */
  metaCalls: z.number().int().default(0),
});

export type EnsemblePrediction = z.infer<typeof EnsemblePredictionSchema>;
export type EnsembleDecision = z.infer<typeof EnsembleDecisionSchema>;

/** The state of an ensemble: every member's prediction and the combined answer. */
export const EnsembleState = new StateSchema({
  question: z.string(),
  predictions: new ReducedValue(z.array(EnsemblePredictionSchema).default(() => []), { inputSchema: z.array(EnsemblePredictionSchema), reducer: (current: EnsemblePrediction[], next: EnsemblePrediction[]) => [...current, ...next] }),
  final: EnsembleDecisionSchema.optional(),
});
type State = typeof EnsembleState.State;

/** Stacking: a meta-model (or meta-agent) reads every member's prediction and answers. */
export interface StackCombiner {
  stack: AnyAgent | BaseChatModel;
  /** The meta-model's system prompt, when `stack` is a model. */
  instructions?: string;
}

export interface EnsembleOptions {
  /** Independent members answering the same question (at least two, distinct names). */
  members: readonly AnyAgent[];
  /** "vote" (default): majority of normalised predictions; "average": mean of numeric ones; or stacking. */
  combine?: "vote" | "average" | StackCombiner;
  /** How predictions are compared (default `normalizeAnswer`). An empty result does not vote. */
  normalize?: (text: string) => string;
}

const STACK_INSTRUCTIONS = "You combine the predictions of several models into one answer. Weigh them by their reasoning, not only by how many agree; end with the final answer.";

const OptionsSchema = z.object({
  members: z.array(z.custom<AnyAgent>(isAgent, "must be an agent made with defineAgent")).min(2, "an ensemble needs at least two members").refine((members) => new Set(members.map((member) => member.name)).size === members.length, "members need distinct names: they label predictions and events"),
  combine: z.union([z.enum(["vote", "average"]), z.object({ stack: z.custom((value) => isAgent(value) || isChatModel(value)), instructions: z.string().min(1).optional() })], { error: 'must be "vote", "average" or { stack: agent or chat model }' }).optional(),
  normalize: z.custom((value) => typeof value === "function", "must be a function (text) => comparable answer").optional(),
});

/**
 * An ensemble: every member answers the same question independently and in parallel (`Send`),
 * then the predictions are combined — by majority vote of the normalised answers, by the average
 * of numeric ones, or by stacking, where a meta-model reads every member's prediction and gives the
 * answer. `final.agreement` is the share of members agreeing with the answer; a `decision` event
 * says how it was reached. (To try a cheap model first and escalate on low confidence, use
 * `createCascadeGraph` instead.)
 *
 * Reuses: `Send` for the fan-out, agents for members and the meta-model, `normalizeAnswer` and
 * `majority` from answers.ts, `observeNode`, `reportEvent`; a member out of steps or budget abstains.
 *
 * @example
 * const graph = createEnsembleGraph({ members: [small, medium, large], combine: { stack: judgeModel } });
 * const { state } = await run(graph, { question: "Is 1729 a sum of two cubes in two ways?" });
 * state.final; // { answer, normalized, method: "stack", agreement, votes, metaCalls: 1 }
 */
export function createEnsembleGraph(options: EnsembleOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid ensemble options: ${describeIssues(parsed.error)}. Pass { members: [agent, agent, …], combine?: "vote" | "average" | { stack } }.`);
  const { members, combine = "vote", normalize = normalizeAnswer } = options;
  const askers = members.map((member) => agentAsker(member));
  const meta = typeof combine === "object" ? agentAsker(isAgent(combine.stack) ? combine.stack : defineAgent({ name: "stacker", instructions: combine.instructions ?? STACK_INSTRUCTIONS, tools: [], maxSteps: 1, model: combine.stack })) : undefined;

  const predict = async ({ question, member }: { question: string; member: number }, config: LangGraphRunnableConfig) => {
    const agent = members[member]!;
    try {
      const reply = await askers[member]!(question, config);
      return { predictions: [{ member: agent.name, text: reply.text, normalized: normalize(reply.text), modelCalls: reply.modelCalls }] };
    } catch (error) {
      // A member that cannot answer abstains; the others still decide.
      if (!(error instanceof MaxStepsExceededError) && !isBudgetExceeded(error)) throw error;
      return { predictions: [{ member: agent.name, text: "", normalized: "", modelCalls: error instanceof MaxStepsExceededError ? agent.maxSteps : 0, error: isBudgetExceeded(error) ? "budget" : "max-steps" }] };
    }
  };

  const combineNode = async (state: State, config: LangGraphRunnableConfig) => {
    // Predictions arrive in completion order; members' order makes votes and ties reproducible.
    const order = new Map(members.map((member, index) => [member.name, index]));
    const predictions = [...state.predictions].sort((a, b) => order.get(a.member)! - order.get(b.member)!);
    const voting = predictions.filter((entry) => !entry.error && entry.normalized !== "");
    const counts = new Map<string, number>();
    for (const entry of voting) counts.set(entry.normalized, (counts.get(entry.normalized) ?? 0) + 1);
    const votes = Object.fromEntries(counts);
    const share = (normalized: string) => (counts.get(normalized) ?? 0) / members.length;
    const tally = [...counts].map(([value, n]) => `"${value}" ×${n}`).join(", ") || "none";
    let final: EnsembleDecision;
    let reason: string;
    if (combine === "vote") {
      const winner = majority(voting.map((entry) => entry.normalized)).value ?? "";
      final = { answer: voting.find((entry) => entry.normalized === winner)?.text ?? "", normalized: winner, method: "vote", agreement: share(winner), votes, metaCalls: 0 };
      reason = winner ? `vote: "${winner}" from ${counts.get(winner)} of ${members.length} members (${tally})` : "vote: no member gave a usable prediction";
    } else if (combine === "average") {
      const values = voting.map((entry) => Number(entry.normalized)).filter(Number.isFinite);
      const mean = values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : Number.NaN;
      const spread = values.length ? Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length) : 0;
      const answer = values.length ? String(Number(mean.toFixed(6))) : "";
      final = { answer, normalized: answer, method: "average", agreement: share(answer), votes, spread, metaCalls: 0 };
      reason = values.length ? `average of ${values.length} numeric predictions of ${members.length}: ${answer} (spread ${Number(spread.toFixed(6))})` : "average: no member gave a number";
    } else {
      const reply = await meta!(stackPrompt(state.question, predictions), config);
      const normalized = normalize(reply.text);
      final = { answer: reply.text, normalized, method: "stack", agreement: share(normalized), votes, metaCalls: reply.modelCalls };
      reason = `stacking: the meta-model read ${predictions.filter((entry) => !entry.error).length} predictions (${tally}) and answered "${normalized}"`;
    }
    reportEvent(config, { type: "decision", by: "ensemble", next: "finish", reason });
    return { final };
  };

  const graph = new StateGraph(EnsembleState)
    // Send delivers one member's task rather than the graph state to "predict".
    .addNode("predict", observeNode("predict", predict) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<{ predictions: EnsemblePrediction[] }>)
    .addNode("combine", observeNode("combine", combineNode))
    .addConditionalEdges(START, (state: State) => members.map((_, member) => new Send("predict", { question: state.question, member })), ["predict"])
    .addEdge("predict", "combine")
    .addEdge("combine", END)
    .compile({ name: "ensemble" });
  const inner = Math.max(...[...askers, ...(meta ? [meta] : [])].map((asker) => stepBudgetOf(asker.graph) ?? 0));
  return setStepBudget(graph, Math.max(inner, 4));
}

/** Every member's prediction, each quoted on a line behind its member's name. */
function stackPrompt(question: string, predictions: readonly EnsemblePrediction[]): string {
  const lines = predictions.map((entry) => `[${entry.member}] ${entry.error ? `(no prediction: ${entry.error})` : entry.text.replace(/\s*\n\s*/g, " ")}`);
  return `Question: ${question}\n\nPredictions of ${predictions.length} models:\n${lines.join("\n")}\n\nCombine these predictions into the single best answer to the question.`;
}

function isChatModel(value: unknown): value is BaseChatModel {
  return typeof value === "object" && value !== null && typeof (value as { invoke?: unknown }).invoke === "function" && typeof (value as { _llmType?: unknown })._llmType === "function";
}
