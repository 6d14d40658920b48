import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { mean, quantile } from "../eval/stats/bootstrap.ts";
import { summarize } from "../eval/stats/summary.ts";
import { hashSeed, randomIndex, seededRandom, stableShare } from "../eval/stats/random.ts";
import { definitionOf, isRunnableGraph } from "../graph/define-graph.ts";
import { AGENT_METADATA_KEY, endpointOf, observeModelCall } from "../models/observe.ts";
import { defaultModel, describeModel } from "../models/resolve.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import type { RunnableGraph } from "../runtime/run.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { createFeedbackStore } from "./feedback.ts";
import type { FeedbackEntry, FeedbackStore } from "./feedback.ts";

/**
 * One variant: a system prompt (the input is the user message), a function building the messages
 * (e.g. `(input) => prompt.format({ question: input })` with `definePrompt`), or a graph compiled
 * with `compileGraph` (its definition's `input` / `output` map the input and the answer).
 */
export type AbArm = string | ((input: string) => BaseMessage[] | Promise<BaseMessage[]>) | RunnableGraph;

export interface AbTestOptions {
  /** The experiment's name: salts the assignment hash (experiments split independently) and labels outcomes (default "ab-test"). */
  name?: string;
  /** The variants by name (letters, digits, `_`, `-`); at least two. */
  arms: Record<string, AbArm>;
  /** Each arm's share of keys, summing to 1, e.g. { A: 0.5, B: 0.5 }. */
  split: Record<string, number>;
  /** The assignment key of an input (a user or session id, so a user always sees one variant). Default: the input itself. */
  key?: (input: string) => string;
  /** Where outcomes go (default: an in-memory store; `createFeedbackStore({ path })` keeps them in SQLite). */
  store?: FeedbackStore;
  /** Scores each run's answer when it ends (a check, a judge); omit it and call `record` when the outcome is known later. */
  outcome?: (output: string, input: string) => number | Promise<number>;
  /** The model prompt arms use (default: the run's model). */
  model?: BaseChatModel;
}

/** One arm's outcomes: how many, over how many keys, and the mean over keys with a bootstrap interval. */
export interface AbArmResult {
  arm: string;
  /** The arm's target share of keys. */
  share: number;
  /** Outcomes recorded. */
  count: number;
  /** Distinct keys with outcomes: the independent units the mean and interval are over. */
  keys: number;
  /** The mean of the per-key mean outcomes (each key counts once, however often it was recorded). */
  mean: number;
  ci: [number, number];
}

/** An arm against the first arm: the difference of per-key means with an unpaired bootstrap interval over keys. */
export interface AbComparison {
  baseline: string;
  arm: string;
  /** mean(arm) − mean(baseline). */
  difference: number;
  ci: [number, number];
  verdict: "better" | "worse" | "no significant difference" | "not enough data";
}

export interface AbResults {
  experiment: string;
  arms: AbArmResult[];
  comparisons: AbComparison[];
}

/** What `createAbTest` returns: the graph to run, and the experiment's bookkeeping. */
export interface AbTest {
  /** Input `{ input, key? }`; the state ends with `arm`, `output` and (with `outcome`) `score`. */
  graph: ReturnType<typeof compileAbGraph>;
  /** The arm a key is assigned to, and its bucket in [0, 1). The same key always gets the same arm. */
  armFor(key: string): { arm: string; bucket: number };
  /** Records an outcome known later (a click, a rating) against the key's arm. */
  record(key: string, outcome: number, runId?: string): FeedbackEntry;
  /** Per-arm counts and per-key means, and each arm compared with the first over keys (seeded: same outcomes, same intervals). */
  results(options?: { level?: number; iterations?: number; seed?: number }): AbResults;
}

export const AbTestState = new StateSchema({
  input: z.string(),
  key: z.string().optional(),
  arm: z.string().optional(),
  bucket: z.number().optional(),
  output: z.string().optional(),
  score: z.number().optional(),
});
type State = typeof AbTestState.State;

const ARM_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const isArm = (value: unknown) => typeof value === "string" || typeof value === "function" || isRunnableGraph(value);
const OptionsSchema = z
  .object({
    name: z.string().min(1).optional(),
    arms: z.record(z.string().regex(ARM_NAME, 'use 1-40 letters, digits, "_" or "-"'), z.custom<AbArm>(isArm, "must be a system prompt, a function (input) => messages, or a compiled graph")),
    split: z.record(z.string(), z.number().min(0).max(1)),
    key: z.custom<(input: string) => string>((value) => typeof value === "function", "must be a function (input) => key").optional(),
    outcome: z.custom<AbTestOptions["outcome"]>((value) => typeof value === "function", "must be a function (output, input) => number").optional(),
  })
  .refine((options) => Object.keys(options.arms).length >= 2, "an A/B test needs at least two arms")
  .refine((options) => sameKeys(options.arms, options.split), "split must give a share to every arm, and only to arms")
  .refine((options) => Math.abs(Object.values(options.split).reduce((sum, share) => sum + share, 0) - 1) < 1e-9, "the shares in split must sum to 1");

/**
 * An A/B test: a stable hash of each input's key (FNV-1a of experiment and key, mixed by
 * mulberry32 — the eval stats' seeded randomness) picks the arm, so the same key always gets the
 * same arm and the arms receive their `split` of keys. The graph routes to the arm's node
 * (a conditional edge), runs it — a prompt through `observeModelCall`, labelled with the arm as
 * its agent, or a compiled graph as a subgraph — and, with `outcome`, records the score in the
 * store. `results()` averages outcomes per key (the unit assigned to an arm, so repeated outcomes
 * of one key are not independent), then compares each arm's per-key means with the first's by an
 * unpaired bootstrap over keys (arms see different keys, so no pairing exists).
 *
 * @example
 * const test = createAbTest({ arms: { A: "Answer briefly.", B: "Answer briefly and cite sources." }, split: { A: 0.5, B: 0.5 }, key: (input) => input, outcome: (answer) => (/\[\w/.test(answer) ? 1 : 0) });
 * await run(test.graph, { input: "What is the refund window?" });
 * test.results(); // { arms: [{ arm: "A", count: 1, keys: 1, mean: 0, … }, …], comparisons: [{ baseline: "A", arm: "B", … }] }
 */
export function createAbTest(options: AbTestOptions): AbTest {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid A/B test: ${z.prettifyError(parsed.error)}. Pass { arms: { A, B }, split: { A: 0.5, B: 0.5 }, key: (input) => userId }.`);
  const { name = "ab-test", arms, split, key = (input: string) => input, outcome, model } = options;
  const store = options.store ?? createFeedbackStore();
  const names = Object.keys(arms);
  for (const arm of names) {
    const value = arms[arm];
    if (isRunnableGraph(value) && !definitionOf(value)) throw new DefinitionError(`Arm "${arm}" is a compiled graph without a definition, so its input and answer are unknown. Build it with compileGraph(defineGraph({ …, input, output })).`);
  }

  const armFor = (assignmentKey: string) => {
    const bucket = stableShare(name, assignmentKey);
    let cumulative = 0;
    // The last arm also takes rounding leftovers, so every bucket lands somewhere.
    const arm = names.find((candidate) => (cumulative += split[candidate]!) > bucket) ?? names.at(-1)!;
    return { arm, bucket };
  };

  const assign = (state: State, config: LangGraphRunnableConfig) => {
    const assignmentKey = state.key ?? key(state.input);
    const { arm, bucket } = armFor(assignmentKey);
    reportEvent(config, { type: "decision", by: name, next: arm, reason: `key "${assignmentKey.slice(0, 60)}" hashes to ${bucket.toFixed(3)}, in arm ${arm}'s share (${describeSplit(names, split)})` });
    return { key: assignmentKey, arm, bucket };
  };

  const runArm = (arm: string) => async (state: State, config: LangGraphRunnableConfig) => {
    const variant = arms[arm]!;
    const labelled: LangGraphRunnableConfig = { ...config, metadata: { ...config.metadata, [AGENT_METADATA_KEY]: `${name}/${arm}` } };
    if (isRunnableGraph(variant)) {
      const definition = definitionOf(variant)!;
      const final = await (variant.invoke as (input: unknown, config: unknown) => Promise<unknown>)(definition.input(state.input), labelled);
      return { output: definition.output(final as never).answer };
    }
    const messages = typeof variant === "string" ? [new SystemMessage(variant), new HumanMessage(state.input)] : await variant(state.input);
    return { output: await callModel(model ?? runContext(config).model ?? defaultModel(), messages, labelled) };
  };

  const score = async (state: State, config: LangGraphRunnableConfig) => {
    const value = await outcome!(state.output ?? "", state.input);
    if (!Number.isFinite(value)) throw new DefinitionError(`The outcome function of A/B test "${name}" returned ${String(value)}; return a finite number (1/0 for success, or a score).`);
    const context = runContext(config);
    store.rate({ runId: context.events?.runId ?? context.threadId ?? state.key!, rating: value, experiment: name, arm: state.arm!, key: state.key! });
    return { score: value };
  };

  const graph = compileAbGraph(names, assign, runArm, outcome ? score : undefined, name);
  const inner = Math.max(0, ...names.map((arm) => (isRunnableGraph(arms[arm]) ? (stepBudgetOf(arms[arm]) ?? 0) : 0)));
  setStepBudget(graph, Math.max(inner, 5));

  return {
    graph,
    armFor,
    record: (assignmentKey, value, runId) => store.rate({ runId: runId ?? assignmentKey, rating: value, experiment: name, arm: armFor(assignmentKey).arm, key: assignmentKey }),
    results: (resultOptions = {}) => results(store, name, names, split, resultOptions),
  };
}

type Node = (state: State, config: LangGraphRunnableConfig) => unknown;

function compileAbGraph(names: string[], assign: Node, runArm: (arm: string) => Node, score: Node | undefined, name: string) {
  // Node names are data here; the builder is typed loosely and the result by a fixed-shape twin.
  const builder = new StateGraph(AbTestState) as unknown as StateGraph<typeof AbTestState, State, Partial<State>, string>;
  builder.addNode("assign", observeNode("assign", assign) as never);
  for (const arm of names) builder.addNode(`arm-${arm}`, observeNode(`arm-${arm}`, runArm(arm)) as never);
  if (score) builder.addNode("record-outcome", observeNode("record-outcome", score) as never);
  builder.addEdge(START, "assign");
  builder.addConditionalEdges("assign", (state: State) => `arm-${state.arm}`, names.map((arm) => `arm-${arm}`));
  for (const arm of names) builder.addEdge(`arm-${arm}`, score ? "record-outcome" : END);
  if (score) builder.addEdge("record-outcome", END);
  return builder.compile({ name }) as unknown as ReturnType<typeof typedTwin>;
}

function typedTwin() {
  return new StateGraph(AbTestState).addNode("assign", () => ({})).addEdge(START, "assign").compile();
}

async function callModel(model: BaseChatModel, messages: BaseMessage[], config: LangGraphRunnableConfig): Promise<string> {
  const context = runContext(config);
  const info = context.model === model && context.modelInfo ? context.modelInfo : describeModel(model);
  const endpoint = endpointOf(model);
  const temperature = (model as { temperature?: unknown }).temperature;
  const label = { model: info.name, provider: info.provider, messageCount: messages.length, sampling: !info.offline && temperature !== 0, ...(endpoint ? { endpoint } : {}), request: { messages, parameters: { temperature: temperature ?? null } } };
  const response = await observeModelCall(config, label, (signal, backup) => (backup ?? model).invoke(messages, signal ? { ...config, signal } : config));
  return response.text;
}

function results(store: FeedbackStore, experiment: string, names: string[], split: Record<string, number>, options: { level?: number; iterations?: number; seed?: number }): AbResults {
  // Arms are assigned per key, so a key's outcomes are not independent: average them per key
  // first, and let each key (the unit of randomisation) count once in the means and intervals.
  // Otherwise recording one key many times would shrink the interval (pseudo-replication).
  const perKey = new Map(names.map((arm) => [arm, new Map<string, { sum: number; count: number }>()]));
  const counts = new Map(names.map((arm) => [arm, 0]));
  for (const entry of store.list({ experiment })) {
    const keys = perKey.get(entry.arm ?? "");
    if (!keys) continue;
    counts.set(entry.arm!, counts.get(entry.arm!)! + 1);
    const id = entry.key ?? entry.runId;
    const totals = keys.get(id) ?? { sum: 0, count: 0 };
    totals.sum += entry.rating;
    totals.count += 1;
    keys.set(id, totals);
  }
  const keyMeans = new Map(names.map((arm) => [arm, [...perKey.get(arm)!.values()].map(({ sum, count }) => sum / count)]));
  const arms = names.map((arm) => {
    const means = keyMeans.get(arm)!;
    const { n, mean, ci } = summarize(means, options);
    return { arm, share: split[arm]!, count: counts.get(arm)!, keys: n, mean, ci };
  });
  const baseline = names[0]!;
  const comparisons = names.slice(1).map((arm) => compare(baseline, arm, keyMeans.get(baseline)!, keyMeans.get(arm)!, options));
  return { experiment, arms, comparisons };
}

/** Unpaired percentile bootstrap over keys of mean(b) − mean(a): each arm's per-key means resampled on their own. */
function compare(baseline: string, arm: string, a: number[], b: number[], options: { level?: number; iterations?: number; seed?: number }): AbComparison {
  if (a.length < 2 || b.length < 2) return { baseline, arm, difference: a.length && b.length ? mean(b) - mean(a) : 0, ci: [0, 0], verdict: "not enough data" };
  const { level = 0.95, iterations = 2000, seed = 0 } = options;
  const random = seededRandom(hashSeed(seed, baseline, arm));
  const resampledMean = (values: number[]) => {
    let sum = 0;
    for (let draw = 0; draw < values.length; draw++) sum += values[randomIndex(random, values.length)]!;
    return sum / values.length;
  };
  const differences = Float64Array.from({ length: iterations }, () => resampledMean(b) - resampledMean(a)).sort();
  const ci: [number, number] = [quantile(differences, (1 - level) / 2), quantile(differences, 1 - (1 - level) / 2)];
  const verdict = ci[0] > 0 ? "better" : ci[1] < 0 ? "worse" : "no significant difference";
  return { baseline, arm, difference: mean(b) - mean(a), ci, verdict };
}

function sameKeys(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => key in b);
}

function describeSplit(names: string[], split: Record<string, number>): string {
  let from = 0;
  return names.map((arm) => `${arm} [${from.toFixed(2)}, ${(from += split[arm]!).toFixed(2)})`).join(", ");
}
