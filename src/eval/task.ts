import { randomUUID } from "node:crypto";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { createAgentGraph } from "../agent/agent-graph.ts";
import type { Agent } from "../agent/define-agent.ts";
import type { ConclaveConfig } from "../config/schema.ts";
import type { ModelInfo, RunUsage } from "../events/types.ts";
import { answerFromMessages } from "../graph/answer.ts";
import { isGraphDefinition } from "../graph/define-graph.ts";
import type { ConclaveGraph } from "../graph/define-graph.ts";
import { run } from "../runtime/run.ts";
import type { GraphInput, RunOptions, RunnableGraph } from "../runtime/run.ts";
import type { EvalTask, Suite, TaskResult } from "./define-suite.ts";
import type { Sample, TaskOutput } from "./types.ts";

/** What a function task receives: the run's model, and `run` — the runtime's `run()` with the eval's options (cache, limits, cassette, events), counted into this sample's usage. */
export interface TaskContext {
  model: BaseChatModel;
  modelInfo: ModelInfo;
  signal?: AbortSignal;
  run<G extends RunnableGraph>(graph: G, input: GraphInput<G>, options?: RunOptions): ReturnType<typeof run<G>>;
}

/** Everything a sample's run shares with the others. */
export interface TaskEnvironment {
  config: ConclaveConfig;
  cwd: string;
  model: BaseChatModel;
  modelInfo: ModelInfo;
  /** Options every run gets (events, cache, pricing, rate limits, resilience, budget…). */
  runOptions: RunOptions;
  signal?: AbortSignal;
}

/** One attempt's outcome: the output scorers see, and the run ids that produced it. */
export interface Attempt {
  output: TaskOutput;
  runIds: string[];
  error?: string;
}

const built = new WeakMap<object, RunnableGraph>();

/** Runs one sample through the task once, measuring usage and latency; a failure is returned, not thrown. */
export async function attempt<I, E>(suite: Suite<I, E>, task: EvalTask<I, E>, sample: Sample<I, E>, env: TaskEnvironment, extra: RunOptions = {}): Promise<Attempt> {
  const usage: TaskOutput["usage"] = { modelCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 };
  const runIds: string[] = [];
  const counted = async <G extends RunnableGraph>(graph: G, input: GraphInput<G>, options: RunOptions = {}) => {
    const result = await run(graph, input, { ...env.runOptions, model: env.model, modelInfo: env.modelInfo, threadId: randomUUID(), ...(env.signal ? { signal: env.signal } : {}), ...extra, ...options });
    add(usage, result.usage);
    runIds.push(result.runId);
    return result;
  };
  const startedAt = Date.now();
  try {
    const result = await perform(suite, task, sample, env, counted);
    return { output: { ...result, usage, latencyMs: Date.now() - startedAt }, runIds };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { output: { output: undefined, text: "", usage, latencyMs: Date.now() - startedAt }, runIds, error: message };
  }
}

type Counted = <G extends RunnableGraph>(graph: G, input: GraphInput<G>, options?: RunOptions) => ReturnType<typeof run<G>>;

async function perform<I, E>(suite: Suite<I, E>, task: EvalTask<I, E>, sample: Sample<I, E>, env: TaskEnvironment, counted: Counted): Promise<Omit<TaskOutput, "usage" | "latencyMs">> {
  const prompt = suite.prompt ? suite.prompt(sample) : typeof sample.input === "string" ? sample.input : JSON.stringify(sample.input);
  if (typeof task === "function") {
    const result = await task(sample, { model: env.model, modelInfo: env.modelInfo, ...(env.signal ? { signal: env.signal } : {}), run: counted as TaskContext["run"] });
    const value: TaskResult = typeof result === "string" ? { text: result } : result;
    return { output: value.output ?? value.text, text: value.text, ...(value.citations ? { citations: value.citations } : {}), ...(value.context ? { context: value.context } : {}) };
  }
  if (isGraphDefinition(task)) {
    const definition = task as ConclaveGraph;
    const graph = graphFor(definition, () => definition.build({ config: env.config, cwd: env.cwd }));
    const { state } = await counted(graph, definition.input(prompt) as never, { graphName: definition.name });
    const answer = definition.output(state as never);
    return { output: state, text: answer.answer, citations: answer.citations, ...suite.extract?.(state) };
  }
  const agent = task as Agent<never>;
  const graph = graphFor(agent, () => createAgentGraph(agent) as unknown as RunnableGraph);
  const { state } = await counted(graph, { messages: [new HumanMessage(prompt)] } as never, { graphName: agent.name });
  const answer = answerFromMessages((state as { messages: BaseMessage[] }).messages);
  return { output: state, text: answer.answer, citations: answer.citations, ...suite.extract?.(state) };
}

function graphFor(key: object, build: () => RunnableGraph): RunnableGraph {
  let graph = built.get(key);
  if (!graph) built.set(key, (graph = build()));
  return graph;
}

function add(into: TaskOutput["usage"], usage: RunUsage): void {
  into.modelCalls += usage.modelCalls;
  into.inputTokens += usage.inputTokens;
  into.outputTokens += usage.outputTokens;
  into.totalTokens += usage.totalTokens;
  into.costUsd += usage.costUsd;
}
