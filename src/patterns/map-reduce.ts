import { END, ReducedValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { agentAsker, describeIssues, isAgent, stepContext } from "./agent-step.ts";
import type { AnyAgent, StepContext } from "./agent-step.ts";

/** Where a map call runs: its chunk's position. */
export interface MapContext extends StepContext {
  index: number;
  total: number;
}

/** Where a reduce call runs: its level (1 = reducing the map results) and its group in that level. */
export interface ReduceContext extends StepContext {
  level: number;
  group: number;
  groups: number;
}

/** Maps one chunk: a function, or an agent when chunks and results are text (it gets the chunk labelled `[chunk-N]`, N counting from 1 over the input). */
export type MapStep<C, R> = ((chunk: C, context: MapContext) => R | Promise<R>) | ([C, R] extends [string, string] ? AnyAgent : never);
/** Reduces a group of results to one: a function, or an agent when results are text (it gets them labelled `[summary-N]`, N counting within the group). */
export type ReduceStep<R> = ((results: R[], context: ReduceContext) => R | Promise<R>) | (R extends string ? AnyAgent : never);

export interface MapReduceOptions<I, C, R> {
  /** Splits the input into chunks, in order (see `textChunks` for text). */
  split: (input: I, context: StepContext) => readonly C[] | Promise<readonly C[]>;
  map: MapStep<C, R>;
  /** Combines a group of at most `fanIn` results; applied level by level until one result is left. */
  reduce: ReduceStep<R>;
  /** Most map (and reduce) calls in flight at once. Default 4. */
  concurrency?: number;
  /** Most results one reduce call combines (at least 2). Default 4. */
  fanIn?: number;
}

/** One stage: the map (level 0) or a level of reduction. */
export const MapReduceLevelSchema = z.object({ level: z.number().int(), inputs: z.number().int(), outputs: z.number().int() });
export type MapReduceLevel = z.infer<typeof MapReduceLevelSchema>;

/** The state of a map-reduce run, typed by its input, chunk and result. Results keep the chunks' order. */
export function mapReduceState<I, C, R>() {
  return new StateSchema({
    input: z.custom<I>(),
    chunks: z.array(z.custom<C>()).default(() => []),
    /** The map results, one per chunk, in chunk order. */
    mapped: z.array(z.custom<R>()).default(() => []),
    /** The results of the latest level, in order. */
    current: z.array(z.custom<R>()).default(() => []),
    levels: new ReducedValue(z.array(MapReduceLevelSchema).default(() => []), { inputSchema: z.array(MapReduceLevelSchema), reducer: (all: MapReduceLevel[], next: MapReduceLevel[]) => [...all, ...next] }),
    /** The one result left (absent when there was nothing to map). */
    result: z.custom<R>().optional(),
  });
}

const OptionsSchema = z.object({
  split: z.custom((value) => typeof value === "function", "must be a function (input, context) => chunks"),
  map: z.custom((value) => typeof value === "function" || isAgent(value), "must be a function (chunk, context) => result or an agent"),
  reduce: z.custom((value) => typeof value === "function" || isAgent(value), "must be a function (results, context) => result or an agent"),
  concurrency: z.number().int().min(1).default(4),
  fanIn: z.number().int().min(2, "must be at least 2, or reduction never ends").default(4),
});

// Enough reduce levels for 2^32 chunks at fan-in 2; the run needs one superstep per level.
const MAX_LEVELS = 32;

/**
 * Map-reduce: `split` cuts the input into chunks, `map` runs on every chunk in parallel (`Send`)
 * with at most `concurrency` in flight, and `reduce` combines the results hierarchically — groups of
 * at most `fanIn`, then groups of their results, until one is left (summaries of summaries). Results
 * keep the chunks' order whatever order the calls finish in. Each stage ends with a `round-end`
 * event and each reduce level with a `decision`.
 *
 * Reuses: `Send` for the fan-out and LangGraph's own `maxConcurrency` (on a subgraph per stage) for
 * the limit, agents for model steps, `@langchain/textsplitters` for `textChunks`, `observeNode`, `reportEvent`.
 *
 * @example
 * const graph = createMapReduceGraph({ split: textChunks({ chunkSize: 1500 }), map: summariser, reduce: combiner, concurrency: 4, fanIn: 3 });
 * const { state } = await run(graph, { input: longReport });
 * state.result; // the summary of summaries
 */
export function createMapReduceGraph<I, C = string, R = string>(options: MapReduceOptions<I, C, R>) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid map-reduce options: ${describeIssues(parsed.error)}. Pass { split, map, reduce, concurrency?, fanIn? }.`);
  const { concurrency, fanIn } = parsed.data;
  const State = mapReduceState<I, C, R>();
  type S = typeof State.State;

  const mapOne = stepFor<C, R, MapContext>(options.map as MapStep<C, R>, (chunk, { index }) => `[chunk-${index + 1}] ${asText(chunk)}`);
  const reduceOne = stepFor<R[], R, ReduceContext>(options.reduce as ReduceStep<R>, (results) => results.map((result, index) => `[summary-${index + 1}] ${asText(result)}`).join("\n\n"));
  const mapStage = parallelStage<C, R>("map", concurrency, (chunk, index, total, config) => mapOne(chunk, { index, total, ...stepContext(config) }, config));
  const reduceStage = parallelStage<{ results: R[]; level: number }, R>("reduce", concurrency, ({ results, level }, index, total, config) => reduceOne(results, { level, group: index, groups: total, ...stepContext(config) }, config));

  const split = async (state: S, config: LangGraphRunnableConfig) => ({ chunks: [...(await options.split(state.input, stepContext(config)))] });

  const map = async (state: S, config: LangGraphRunnableConfig) => {
    const mapped = await mapStage(state.chunks, config);
    reportEvent(config, { type: "round-end", loop: "map", round: 1, measures: { chunks: state.chunks.length, concurrency }, summary: `mapped ${state.chunks.length} chunks, at most ${concurrency} at a time` });
    return { mapped, current: mapped, levels: [{ level: 0, inputs: state.chunks.length, outputs: mapped.length }], ...(mapped.length === 1 ? { result: mapped[0] } : {}) };
  };

  const reduce = async (state: S, config: LangGraphRunnableConfig) => {
    const level = state.levels.length;
    const groups = balancedGroups(state.current, fanIn);
    const results = await reduceStage(groups.map((group) => ({ results: group, level })), config);
    const done = results.length === 1;
    reportEvent(config, { type: "round-end", loop: "reduce", round: level, measures: { inputs: state.current.length, outputs: results.length, fanIn }, summary: `reduce level ${level}: ${state.current.length} results → ${results.length}` });
    reportEvent(config, { type: "decision", by: "map-reduce", next: done ? "finish" : "reduce", round: level, reason: `level ${level} reduced ${state.current.length} results in ${groups.length} groups of at most ${fanIn}${done ? "; one result left" : `; ${results.length} left to reduce`}` });
    return { current: results, levels: [{ level, inputs: state.current.length, outputs: results.length }], ...(done ? { result: results[0] } : {}) };
  };

  const more = (state: S) => (state.current.length > 1 ? "reduce" : END);
  const graph = new StateGraph(State)
    .addNode("split", observeNode("split", split))
    .addNode("map", observeNode("map", map))
    .addNode("reduce", observeNode("reduce", reduce))
    .addEdge(START, "split")
    .addEdge("split", "map")
    .addConditionalEdges("map", more, ["reduce", END])
    .addConditionalEdges("reduce", more, ["reduce", END])
    .compile({ name: "map-reduce" });
  const inner = Math.max(0, mapOne.budget, reduceOne.budget);
  return setStepBudget(graph, Math.max(inner, MAX_LEVELS + 4));
}

/**
 * A `split` for text: LangChain's `RecursiveCharacterTextSplitter` (paragraphs, then lines, then
 * sentences and words), so chunks end at natural boundaries. Sizes are in characters.
 */
export function textChunks(options: { chunkSize?: number; chunkOverlap?: number } = {}): (text: string) => Promise<string[]> {
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: options.chunkSize ?? 2_000, chunkOverlap: options.chunkOverlap ?? 0 });
  return (text) => splitter.splitText(text);
}

/** Consecutive groups of at most `size`, as even as possible (10 by 3 → 3, 3, 2, 2), so no result is left to pass alone. */
export function balancedGroups<T>(items: readonly T[], size: number): T[][] {
  const count = Math.ceil(items.length / size);
  const groups: T[][] = [];
  let start = 0;
  for (let group = 0; group < count; group++) {
    const length = Math.floor(items.length / count) + (group < items.length % count ? 1 : 0);
    groups.push(items.slice(start, start + length));
    start += length;
  }
  return groups;
}

/**
 * One stage as a subgraph: a `Send` per job under LangGraph's `maxConcurrency`, results gathered by
 * index so they come back in order. Steps get the config without the limit, so graphs they run
 * inside are not throttled by it. At concurrency 1 the jobs are sent one superstep at a time
 * instead: LangGraph.js runs only the first task of a step under `maxConcurrency: 1`
 * (langchain-ai/langgraphjs#2656).
 */
function parallelStage<J, R>(name: string, concurrency: number, work: (job: J, index: number, total: number, config: LangGraphRunnableConfig) => Promise<R>) {
  const Stage = new StateSchema({
    jobs: z.array(z.custom<J>()),
    results: new ReducedValue(z.record(z.string(), z.custom<R>()).default(() => ({})), { inputSchema: z.record(z.string(), z.custom<R>()), reducer: (all: Record<string, R>, next: Record<string, R>) => ({ ...all, ...next }) }),
  });
  type StageState = typeof Stage.State;
  interface Job {
    job: J;
    index: number;
    total: number;
  }
  const serial = concurrency === 1;
  const node = async ({ job, index, total }: Job, config: LangGraphRunnableConfig) => {
    const { maxConcurrency: _limit, ...unlimited } = config;
    return { results: { [index]: await work(job, index, total, unlimited) } };
  };
  const send = (state: StageState, index: number) => new Send(name, { job: state.jobs[index]!, index, total: state.jobs.length } satisfies Job);
  const next = (state: StageState) => {
    const done = Object.keys(state.results).length;
    return done < state.jobs.length ? [send(state, done)] : END;
  };
  const graph = new StateGraph(Stage)
    .addNode(name, observeNode(name, node) as unknown as (state: StageState, config: LangGraphRunnableConfig) => Promise<{ results: Record<string, R> }>)
    .addConditionalEdges(START, serial ? next : (state: StageState) => state.jobs.map((_, index) => send(state, index)), [name, END])
    .addConditionalEdges(name, serial ? next : () => END, [name, END])
    .compile({ name: `${name}-stage` });
  return async (jobs: readonly J[], config: LangGraphRunnableConfig): Promise<R[]> => {
    if (!jobs.length) return [];
    // A serial stage takes a superstep per job, more than the run's limit may allow for a long input.
    const limits = serial ? { recursionLimit: jobs.length + 3 } : { maxConcurrency: concurrency };
    const { results } = await graph.invoke({ jobs: [...jobs] }, { ...config, ...limits });
    return jobs.map((_, index) => results[index] as R);
  };
}

/** Runs a map or reduce step: a function as it is, an agent on the labelled text. */
function stepFor<In, Out, Ctx extends StepContext>(step: ((input: In, context: Ctx) => Out | Promise<Out>) | AnyAgent, prompt: (input: In, context: Ctx) => string) {
  if (isAgent(step)) {
    const ask = agentAsker(step);
    return Object.assign(async (input: In, context: Ctx, config: LangGraphRunnableConfig) => (await ask(prompt(input, context), config)).text as Out, { budget: stepBudgetOf(ask.graph) ?? 0 });
  }
  return Object.assign(async (input: In, context: Ctx) => step(input, context), { budget: 0 });
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
