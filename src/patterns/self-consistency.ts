import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { END, ReducedValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError } from "../errors.ts";
import { defaultModel } from "../models/resolve.ts";
import { withRound } from "../models/observe.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { agentAsker, describeIssues, isAgent, stepContext } from "./agent-step.ts";
import type { AnyAgent, StepContext } from "./agent-step.ts";
import { majority, normalizeAnswer } from "./answers.ts";

/** One sampled answer. */
export const ConsistencySampleSchema = z.object({
  /** 0-based; sample i used prompt i (mod the number of prompts). */
  index: z.number().int(),
  prompt: z.string(),
  text: z.string(),
  /** The comparable form; "" does not vote. */
  normalized: z.string(),
  /** The scorer's score, when there is a scorer. */
  score: z.number().optional(),
  modelCalls: z.number().int(),
  /** Why the sample gave no answer ("budget", "max-steps"). */
  error: z.string().optional(),
});

export const ConsistencyDecisionSchema = z.object({
  /** The full text of the first sample that gave the winning answer. */
  answer: z.string(),
  normalized: z.string(),
  method: z.enum(["majority", "score"]),
  /** Share of all samples whose normalised answer is the winner's. */
  agreement: z.number(),
  /** Normalised answer → how many samples gave it. */
  votes: z.record(z.string(), z.number()),
});

export type ConsistencySample = z.infer<typeof ConsistencySampleSchema>;
export type ConsistencyDecision = z.infer<typeof ConsistencyDecisionSchema>;

/** The state of a self-consistency run. */
export const SelfConsistencyState = new StateSchema({
  question: z.string(),
  samples: new ReducedValue(z.array(ConsistencySampleSchema).default(() => []), { inputSchema: z.array(ConsistencySampleSchema), reducer: (current: ConsistencySample[], next: ConsistencySample[]) => [...current, ...next] }),
  final: ConsistencyDecisionSchema.optional(),
});
type State = typeof SelfConsistencyState.State;

export interface SelfConsistencyOptions {
  /** How many answers to sample, in parallel. */
  samples: number;
  /** Who answers (default: a chain-of-thought agent without tools, one model call per sample). */
  agent?: AnyAgent;
  /** Sampling temperature for the agent's model (or the run's). Applied to models that have one; others are used as they are, with a warning. */
  temperature?: number;
  /** Varied prompts: templates with `{question}` (else the question follows them), used in turn; or a function of the question and the sample's index. */
  prompts?: readonly string[] | ((question: string, index: number) => string);
  /** How answers are compared (default `normalizeAnswer`). An empty result does not vote. */
  normalize?: (text: string) => string;
  /** Picks the best sample by score instead of the majority (a verifier, a reward model through `context.config`). */
  score?: (sample: { text: string; normalized: string; index: number }, context: StepContext & { question: string }) => number | Promise<number>;
}

const DEFAULT_INSTRUCTIONS = 'Answer the question. Think step by step, writing out your reasoning, then give the final answer on a last line "Answer: …".';

const OptionsSchema = z.object({
  samples: z.number().int().min(1),
  agent: z.custom<AnyAgent>(isAgent, "must be an agent made with defineAgent").optional(),
  temperature: z.number().min(0).max(2).optional(),
  prompts: z.union([z.array(z.string().min(1)).min(1), z.custom<(question: string, index: number) => string>((value) => typeof value === "function")], { error: "must be a non-empty list of prompt templates or a function (question, index) => prompt" }).optional(),
  normalize: z.custom<(text: string) => string>((value) => typeof value === "function", "must be a function (text) => comparable answer").optional(),
  score: z.custom<NonNullable<SelfConsistencyOptions["score"]>>((value) => typeof value === "function", "must be a function (sample, context) => number").optional(),
});

interface SampleTask {
  question: string;
  index: number;
}

/**
 * Self-consistency (Wang et al. 2022): `samples` answers to the same question are drawn in
 * parallel (`Send`), each from a chain-of-thought prompt (optionally varied prompts and a
 * temperature), normalised, and the most common final answer wins — or, with `score`, the
 * best-scoring sample. `final.agreement` is the share of samples agreeing with the winner, and a
 * `decision` event gives the vote. With the default agent each sample is exactly one model call.
 *
 * Reuses: `Send` for the fan-out, agents (`createAgentGraph`) for the calls, `normalizeAnswer` and
 * `majority` from answers.ts, `observeNode`, `reportEvent`; a spent budget leaves the samples so far.
 *
 * @example
 * const graph = createSelfConsistencyGraph({ samples: 5, temperature: 0.8, prompts: ["{question}", "Solve carefully: {question}"] });
 * const { state } = await run(graph, { question: "What is 17 * 23 + 4?" });
 * state.final; // { answer, normalized: "395", method: "majority", agreement: 0.8, votes }
 */
export function createSelfConsistencyGraph(options: SelfConsistencyOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid self-consistency options: ${describeIssues(parsed.error)}. Pass { samples: N, agent?, temperature?, prompts?, normalize?, score? }.`);
  const { samples: count, temperature, prompts, normalize = normalizeAnswer, score } = options;
  const agent = options.agent ?? defineAgent({ name: "sampler", instructions: DEFAULT_INSTRUCTIONS, tools: [], maxSteps: 1 });
  const plainAsker = agentAsker(agent);
  const sampledAskers = new WeakMap<BaseChatModel, ReturnType<typeof agentAsker> | undefined>();

  // A temperature needs a copy of the model with it set; copies are made once per model, not per sample.
  const askerFor = (config: LangGraphRunnableConfig) => {
    if (temperature === undefined) return plainAsker;
    const model = agent.model ?? runContext(config).model ?? defaultModel();
    if (!sampledAskers.has(model)) {
      const sampled = withTemperature(model, temperature);
      sampledAskers.set(model, sampled ? agentAsker(defineAgent({ ...agent, model: sampled })) : undefined);
    }
    const asker = sampledAskers.get(model);
    if (!asker) warnOnce(config, `temperature:${model._llmType()}`, `Self-consistency asked for temperature ${temperature}, but model "${model._llmType()}" has no temperature setting; its samples are drawn as it is configured.`);
    return asker ?? plainAsker;
  };

  const promptFor = (question: string, index: number): string => {
    if (typeof prompts === "function") return prompts(question, index);
    const template = prompts?.[index % prompts.length];
    if (template === undefined) return question;
    return template.includes("{question}") ? template.replaceAll("{question}", question) : `${template}\n\n${question}`;
  };

  const sample = async (task: SampleTask, config: LangGraphRunnableConfig) => {
    const prompt = promptFor(task.question, task.index);
    let entry: ConsistencySample;
    try {
      const reply = await askerFor(config)(prompt, withRound(config, 1, `sample-${task.index + 1}`));
      entry = { index: task.index, prompt, text: reply.text, normalized: normalize(reply.text), modelCalls: reply.modelCalls };
      if (score) entry.score = await score({ text: entry.text, normalized: entry.normalized, index: task.index }, { question: task.question, ...stepContext(config) });
    } catch (error) {
      // A sample that runs out of steps or budget abstains; the vote goes on without it.
      if (!(error instanceof MaxStepsExceededError) && !isBudgetExceeded(error)) throw error;
      entry = { index: task.index, prompt, text: "", normalized: "", modelCalls: error instanceof MaxStepsExceededError ? agent.maxSteps : 0, error: isBudgetExceeded(error) ? "budget" : "max-steps" };
    }
    return { samples: [entry] };
  };

  const decide = (state: State, config: LangGraphRunnableConfig) => {
    const samples = [...state.samples].sort((a, b) => a.index - b.index);
    const voting = samples.filter((entry) => !entry.error && entry.normalized !== "");
    // A Map keeps answers in the order first given; a record would put number-like keys first.
    const counts = new Map<string, number>();
    for (const entry of voting) counts.set(entry.normalized, (counts.get(entry.normalized) ?? 0) + 1);
    const votes = Object.fromEntries(counts);
    const scored = voting.filter((entry) => entry.score !== undefined && Number.isFinite(entry.score));
    // Ties in score go to the earlier sample, as ties in the vote go to the first answer seen.
    const bestScored = score && scored.length ? scored.reduce((top, entry) => (entry.score! > top.score! ? entry : top)) : undefined;
    const winner = bestScored?.normalized ?? majority(voting.map((entry) => entry.normalized)).value ?? "";
    const agreeing = votes[winner] ?? 0;
    const final: ConsistencyDecision = { answer: voting.find((entry) => entry.normalized === winner)?.text ?? "", normalized: winner, method: bestScored ? "score" : "majority", agreement: agreeing / count, votes };
    const others = [...counts].filter(([value]) => value !== winner).map(([value, n]) => `"${value}" ×${n}`).join(", ");
    const abstained = samples.length - voting.length + (count - samples.length);
    const reason = !winner
      ? `no sample gave a usable answer (${abstained} of ${count} abstained)`
      : `${bestScored ? `best score ${bestScored.score!.toFixed(3)} (sample ${bestScored.index + 1}): ` : ""}"${winner}" has ${agreeing} of ${count} samples (agreement ${final.agreement.toFixed(2)})${others ? `; others: ${others}` : ""}${abstained ? `; ${abstained} abstained` : ""}`;
    reportEvent(config, { type: "decision", by: "self-consistency", next: "finish", reason });
    return { final };
  };

  const graph = new StateGraph(SelfConsistencyState)
    // Send delivers a SampleTask rather than the graph state to "sample".
    .addNode("sample", observeNode("sample", sample) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<{ samples: ConsistencySample[] }>)
    .addNode("decide", observeNode("decide", decide))
    .addConditionalEdges(START, (state: State) => Array.from({ length: count }, (_, index) => new Send("sample", { question: state.question, index } satisfies SampleTask)), ["sample"])
    .addEdge("sample", "decide")
    .addEdge("decide", END)
    .compile({ name: "self-consistency" });
  return setStepBudget(graph, Math.max(stepBudgetOf(plainAsker.graph) ?? 0, 4));
}

/**
 * A copy of `model` sampling at `temperature`, for models that take one (ChatOpenAI and most
 * LangChain chat models): rebuilt from the fields it was constructed with. Undefined when the
 * model has no temperature (the offline model is deterministic; scripted models replay a script).
 */
export function withTemperature(model: BaseChatModel, temperature: number): BaseChatModel | undefined {
  if (!("temperature" in model)) return undefined;
  const Model = model.constructor as new (fields: Record<string, unknown>) => BaseChatModel;
  return new Model({ ...model.lc_kwargs, temperature });
}

function warnOnce(config: LangGraphRunnableConfig, key: string, message: string): void {
  const context = runContext(config);
  if (context.warned?.has(key)) return;
  (context.warned ??= new Set()).add(key);
  context.events?.emit({ type: "warning", message });
}
