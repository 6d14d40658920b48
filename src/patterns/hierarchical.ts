import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { Command, END, ReducedValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import type { Agent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError, OutputValidationError } from "../errors.ts";
import { citedClaims } from "../graph/citations.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import type { RunnableGraph } from "../runtime/run.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import type { AnyTool } from "../tool/define-tool.ts";

/** One delegation: who was asked what, why, and what came back. */
export const DelegationSchema = z.object({
  /** 1 for the first delegation. */
  index: z.number().int(),
  worker: z.string(),
  instruction: z.string(),
  /** The coordinator's reason for this delegation. */
  reason: z.string(),
  result: z.string(),
  /** Why the worker gave no result ("max-steps", "invalid-output"); the coordinator sees it and may try another way. */
  error: z.string().optional(),
});
export type Delegation = z.infer<typeof DelegationSchema>;

export const HierarchicalTerminationSchema = z.enum(["finished", "max-delegations", "coordinator-failed", "budget"]);
export type HierarchicalTermination = z.infer<typeof HierarchicalTerminationSchema>;

/** The state of a hierarchical team. `delegations` keeps every worker's result, in order. */
export const HierarchicalState = new StateSchema({
  task: z.string(),
  delegations: new ReducedValue(z.array(DelegationSchema).default(() => []), { inputSchema: z.array(DelegationSchema), reducer: (current: Delegation[], next: Delegation[]) => [...current, ...next] }),
  /** The integrated answer: the coordinator's, or (when it could not finish) the workers' results joined. */
  final: z.object({ answer: z.string(), by: z.enum(["coordinator", "results"]) }).optional(),
  terminationReason: HierarchicalTerminationSchema.optional(),
});
type State = typeof HierarchicalState.State;

/** What a worker is handed: the task, the coordinator's instruction, the results so far and the prompt built from them. */
export interface WorkerDelegation {
  task: string;
  instruction: string;
  results: Delegation[];
  /** Task, instruction and earlier results (quoted as `[source] claim` lines, so they can be cited). */
  prompt: string;
}

/** A worker with its description and, for a graph that does not speak `{ messages }`, how to call it. */
export interface WorkerSpec {
  worker: Agent<z.ZodType | undefined> | RunnableGraph;
  /** What the coordinator is told the worker does (default: an agent's first instruction sentence). */
  description?: string;
  /** The worker graph's input (default `{ messages: [prompt] }`). */
  input?: (delegation: WorkerDelegation) => unknown;
  /** The worker's result from its final state (default: its structured response as JSON, else its last message). */
  output?: (state: never) => string;
}

/** An agent, a compiled graph taking `{ messages }` (another team, a pipeline), or a `WorkerSpec`. */
export type HierarchicalWorker = Agent<z.ZodType | undefined> | RunnableGraph | WorkerSpec;

export interface HierarchicalOptions {
  /** The coordinator agent's settings; its structured output (next worker, instruction or answer, reason) is the builder's. */
  coordinator?: { name?: string; instructions?: string; model?: BaseChatModel; tools?: readonly AnyTool[]; maxSteps?: number };
  /** The workers by name (letters, digits, `_`, `-`; not "finish"). */
  workers: Record<string, HierarchicalWorker>;
  /** Most delegations before the team finishes with the results it has. Default 8. */
  maxDelegations?: number;
  /** Show workers the earlier results (default true), so a writer can build on a researcher's. */
  shareResults?: boolean;
}

const FINISH = "finish";
const WORKER_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const OptionsSchema = z.object({
  coordinator: z.object({ name: z.string().regex(WORKER_NAME).optional(), instructions: z.string().min(1).optional(), maxSteps: z.number().int().min(1).optional() }).loose().optional(),
  workers: z.record(z.string(), z.custom<HierarchicalWorker>((value) => typeof value === "object" && value !== null, "must be an agent, a compiled graph or { worker, description }")).superRefine((workers, context) => {
    // Record keys lose their messages in zod's report, so names are checked here.
    if (Object.keys(workers).length === 0) context.addIssue({ code: "custom", message: "a team needs at least one worker" });
    for (const name of Object.keys(workers)) {
      if (!WORKER_NAME.test(name)) context.addIssue({ code: "custom", path: [name], message: `worker name ${JSON.stringify(name)}: use 1-64 letters, digits, "_" or "-"` });
      if (name === FINISH) context.addIssue({ code: "custom", path: [name], message: `"${FINISH}" is the coordinator's way to stop; name the worker something else` });
    }
  }),
  maxDelegations: z.number().int().min(1).optional(),
  shareResults: z.boolean().optional(),
});

const DEFAULT_INSTRUCTIONS = [
  "You coordinate a team of workers. Each turn, either delegate one step to the worker best suited for it — name it in `next` and say exactly what to do in `instruction` — or, when the results answer the task, choose `finish` and write the final `answer` from them, keeping their [source] citations.",
  "Give your `reason` every time. Do not ask a worker for what the results already contain.",
].join(" ");

interface Worker {
  name: string;
  description: string;
  graph: RunnableGraph;
  input: (delegation: WorkerDelegation) => unknown;
  output: (state: unknown) => string;
}

/**
 * A hierarchical team: a coordinator agent decides, with structured output, which worker acts next
 * and with what instruction, or finishes with an answer integrating the results; each delegation
 * is a `decision` event with the coordinator's reason. Workers are agents or whole graphs (another
 * team). Workers not yet asked are listed first among the choices, so a coordinator that names none
 * (the offline model) covers the team before finishing. `maxDelegations` caps a coordinator that
 * never finishes; a spent budget or a coordinator that cannot answer ends the run with the results
 * joined. Reuses `Command` + `Send` for the hand-over, agents for every model call, `observeNode`.
 *
 * @example
 * const graph = createHierarchicalGraph({ workers: { research, writing }, maxDelegations: 4 });
 * const { state } = await run(graph, { task: "Who discovered penicillin?" });
 * state.final?.answer; state.delegations; // what each worker was asked and answered
 */
export function createHierarchicalGraph(options: HierarchicalOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid hierarchical team: ${z.prettifyError(parsed.error)}. Pass { workers: { name: agent | graph | { worker, description } }, coordinator?, maxDelegations? }.`);
  const { maxDelegations = 8, shareResults = true } = options;
  const workers = Object.entries(options.workers).map(([name, worker]) => toWorker(name, worker));
  const byName = new Map(workers.map((worker) => [worker.name, worker]));
  const settings = options.coordinator ?? {};
  const coordinatorName = settings.name ?? "coordinator";
  // The schema's choices are ordered per turn (unasked workers first), so coordinator graphs are cached by that order.
  const coordinators = new Map<string, ReturnType<typeof coordinatorGraph>>();
  const coordinatorFor = (choices: [string, ...string[]]) => {
    const key = choices.join("\n");
    if (!coordinators.has(key)) coordinators.set(key, coordinatorGraph(choices));
    return coordinators.get(key)!;
  };
  const coordinatorGraph = (choices: [string, ...string[]]) =>
    createAgentGraph(defineAgent({ name: coordinatorName, instructions: settings.instructions ?? DEFAULT_INSTRUCTIONS, tools: settings.tools ?? [], ...(settings.model ? { model: settings.model } : {}), maxSteps: settings.maxSteps ?? 3, outputSchema: decisionSchema(choices) }));

  const finishWithResults = (state: State, config: LangGraphRunnableConfig, terminationReason: HierarchicalTermination, reason: string) => {
    reportEvent(config, { type: "decision", by: coordinatorName, next: FINISH, round: state.delegations.length, reason });
    return new Command({ update: { final: { answer: joinResults(state.delegations), by: "results" as const }, terminationReason }, goto: END });
  };

  const coordinate = async (state: State, config: LangGraphRunnableConfig) => {
    const done = state.delegations.length;
    if (state.delegations.at(-1)?.error === "budget") return finishWithResults(state, config, "budget", `the run's budget ran out while ${state.delegations.at(-1)!.worker} worked; finishing with the workers' results`);
    if (done >= maxDelegations) return finishWithResults(state, config, "max-delegations", `the delegation limit (${maxDelegations}) is reached; finishing with the workers' results`);
    const asked = new Set(state.delegations.map((delegation) => delegation.worker));
    const unasked = workers.filter((worker) => !asked.has(worker.name)).map((worker) => worker.name);
    const choices = [...unasked, FINISH, ...workers.filter((worker) => asked.has(worker.name)).map((worker) => worker.name)] as [string, ...string[]];
    let decision: z.output<ReturnType<typeof decisionSchema>>;
    try {
      const result = await coordinatorFor(choices).invoke({ messages: [new HumanMessage(coordinatorPrompt(state, workers, unasked, maxDelegations))] }, config);
      decision = result.structuredResponse!;
    } catch (error) {
      if (isBudgetExceeded(error)) return finishWithResults(state, config, "budget", "the run's budget is spent; finishing with the workers' results");
      if (!(error instanceof OutputValidationError) && !(error instanceof MaxStepsExceededError)) throw error;
      return finishWithResults(state, config, "coordinator-failed", `the coordinator gave no valid decision (${error.message.slice(0, 120)}); finishing with the workers' results`);
    }
    const reason = decision.reason.trim() || (decision.next === FINISH ? "the results answer the task" : `${decision.next} is best suited for the next step`);
    reportEvent(config, { type: "decision", by: coordinatorName, next: decision.next, round: done + 1, reason });
    if (decision.next === FINISH) {
      const answer = decision.answer.trim();
      return new Command({ update: { final: answer ? { answer, by: "coordinator" as const } : { answer: joinResults(state.delegations), by: "results" as const }, terminationReason: "finished" as const }, goto: END });
    }
    // Send hands the order to `delegate` as its input, so no "current order" field lingers in the state.
    const order: DelegateTask = { task: state.task, worker: decision.next, instruction: decision.instruction.trim() || state.task, reason, index: done + 1, results: shareResults ? state.delegations : [] };
    return new Command({ goto: new Send("delegate", order) });
  };

  const delegate = async (order: DelegateTask, config: LangGraphRunnableConfig) => {
    const worker = byName.get(order.worker)!;
    const delegation: WorkerDelegation = { task: order.task, instruction: order.instruction, results: order.results, prompt: workerPrompt(order) };
    const entry: Delegation = { index: order.index, worker: worker.name, instruction: order.instruction, reason: order.reason, result: "" };
    try {
      entry.result = worker.output(await worker.graph.invoke(worker.input(delegation) as never, config as never));
    } catch (error) {
      // A budget stop is the coordinator's to announce; it ends the run on its next turn.
      if (isBudgetExceeded(error)) return { delegations: [{ ...entry, error: "budget" }] };
      if (!(error instanceof MaxStepsExceededError) && !(error instanceof OutputValidationError)) throw error;
      entry.error = error instanceof MaxStepsExceededError ? "max-steps" : "invalid-output";
    }
    return { delegations: [entry] };
  };

  const graph = new StateGraph(HierarchicalState)
    .addNode("coordinate", observeNode("coordinate", coordinate), { ends: ["delegate", END] })
    // Send delivers a DelegateTask, not the team state, to "delegate".
    .addNode("delegate", observeNode("delegate", delegate) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<{ delegations: Delegation[] }>)
    .addEdge(START, "coordinate")
    .addEdge("delegate", "coordinate")
    .compile({ name: "hierarchical" });
  const inner = Math.max(...workers.map((worker) => stepBudgetOf(worker.graph) ?? 0), ((settings.maxSteps ?? 3) * 2) + 3);
  // Coordinator and delegate per delegation, the final coordinator turn, start and a spare.
  return setStepBudget(graph, Math.max(inner, maxDelegations * 2 + 4));
}

interface DelegateTask {
  task: string;
  worker: string;
  instruction: string;
  reason: string;
  index: number;
  results: Delegation[];
}

function decisionSchema(choices: [string, ...string[]]) {
  return z.object({
    next: z.enum(choices).describe(`The worker to delegate the next step to, or "${FINISH}" when the results answer the task.`),
    instruction: z.string().default("").describe("For a worker: exactly what it should do. Empty when finishing."),
    answer: z.string().default("").describe("When finishing: the final answer, integrating the workers' results with their [source] citations. Empty otherwise."),
    reason: z.string().default("").describe("Why this step: what is still missing, or why the results suffice."),
  });
}

function toWorker(name: string, value: HierarchicalWorker): Worker {
  const spec: WorkerSpec = isAgent(value) || !("worker" in value) ? { worker: value } : value;
  const agent = isAgent(spec.worker) ? spec.worker : undefined;
  const graph = agent ? createAgentGraph(agent) : (spec.worker as RunnableGraph);
  if (typeof graph.invoke !== "function") throw new DefinitionError(`Worker "${name}" is neither an agent (defineAgent) nor a compiled graph.`);
  const description = spec.description ?? (agent ? firstSentence(agent.instructions) : `the "${name}" graph`);
  return { name, description, graph, input: spec.input ?? ((delegation) => ({ messages: [new HumanMessage(delegation.prompt)] })), output: (spec.output as ((state: unknown) => string) | undefined) ?? messagesOutput };
}

function isAgent(value: unknown): value is Agent<z.ZodType | undefined> {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "conclave.agent";
}

function messagesOutput(state: unknown): string {
  const { structuredResponse, messages } = (state ?? {}) as { structuredResponse?: unknown; messages?: BaseMessage[] };
  if (structuredResponse !== undefined) return JSON.stringify(structuredResponse);
  return messages?.at(-1)?.text.trim() ?? "";
}

function firstSentence(text: string): string {
  return (/^[^.!?\n]*[.!?]?/.exec(text.trim())?.[0] ?? text).slice(0, 200);
}

/**
 * A result as `[source] claim` lines: claims keep the sources the worker cited, uncited ones are
 * cited as the delegation (`[research-1]`), so whoever reads them can cite and check them.
 */
export function quoteResult(delegation: Delegation): string[] {
  if (delegation.error) return [];
  return citedClaims(delegation.result).map((claim) => `${(claim.sources.length ? claim.sources : [`${delegation.worker}-${delegation.index}`]).map((source) => `[${source}]`).join("")} ${claim.claim}`);
}

function coordinatorPrompt(state: State, workers: Worker[], unasked: string[], maxDelegations: number): string {
  const lines = [`Task: ${state.task}`, "", "Workers:", ...workers.map((worker) => `- ${worker.name}: ${worker.description}`), ""];
  if (state.delegations.length === 0) lines.push("No delegations yet.");
  else lines.push(`Delegations so far (${state.delegations.length} of at most ${maxDelegations}):`);
  for (const delegation of state.delegations) lines.push(`${delegation.index}. ${delegation.worker} was asked: ${oneLine(delegation.instruction)} ${delegation.error ? `It gave no result (${delegation.error}).` : `Its result cites ${sourcesOf(delegation).map((source) => `[${source}]`).join(", ")}.`}`);
  lines.push("", unasked.length ? `Not asked yet: ${unasked.join(", ")}.` : "Every worker has been asked at least once.");
  // Quoted passages come last: a `[source]` line opens a passage that runs on to the next one.
  // A claim several workers repeat (a writer restating research) is quoted once.
  const quoted = [...new Set(state.delegations.flatMap(quoteResult))];
  if (quoted.length) lines.push("", "Results:", ...quoted);
  return lines.join("\n");
}

function sourcesOf(delegation: Delegation): string[] {
  return [...new Set(citedClaims(delegation.result).flatMap((claim) => (claim.sources.length ? claim.sources : [`${delegation.worker}-${delegation.index}`])))];
}

function workerPrompt(order: DelegateTask): string {
  const lines = [`Task: ${order.task}`, `Instruction: ${order.instruction}`];
  if (order.results.length) lines.push("", "Results so far:", ...new Set(order.results.flatMap(quoteResult)));
  return lines.join("\n");
}

function joinResults(delegations: Delegation[]): string {
  return delegations.filter((delegation) => !delegation.error && delegation.result).map((delegation) => delegation.result).join("\n\n");
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}
