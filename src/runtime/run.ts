import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Command } from "@langchain/langgraph";
import type { BaseCheckpointSaver, CommandInstance, StateSnapshot } from "@langchain/langgraph";
import { approvalsOf, ApprovalDecisionError, parseDecision } from "../hitl/decisions.ts";
import type { ApprovalDecision, PendingApproval } from "../hitl/decisions.ts";
import { MemoryEffectLedger } from "../persistence/effects.ts";
import type { EffectLedger } from "../persistence/effects.ts";
import { RunEvents, createEventSink } from "../events/emitter.ts";
import type { RunEventSink } from "../events/emitter.ts";
import type { ConclaveEvent, ModelInfo, RunUsage, TokenUsage } from "../events/types.ts";
import { breakers } from "../resilience/breakers.ts";
import { DEFAULT_RESILIENCE } from "../resilience/model-policy.ts";
import { DEFAULT_PRICE_TABLE } from "../resilience/pricing.ts";
import type { PriceTable } from "../resilience/pricing.ts";
import type { ResponseCache } from "../resilience/cache/response-cache.ts";
import type { FallbackChain } from "../resilience/fallback.ts";
import type { ResilienceOptions } from "../resilience/model-policy.ts";
import type { RunBudget } from "./budget.ts";
import { defaultModel, describeModel } from "../models/resolve.ts";
import { AsyncQueue } from "./async-queue.ts";
import type { CassetteLike, ConclaveContext, RunRateLimit } from "./context.ts";
import { toConclaveError } from "./errors.ts";
import { stepBudgetOf } from "./step-budget.ts";

/** Anything LangGraph compiled: a `StateGraph`, a prebuilt agent, a functional `entrypoint`. */
export interface RunnableGraph {
  stream(input: never, options?: never): Promise<AsyncIterable<unknown>>;
  invoke(input: never, options?: never): Promise<unknown>;
}

/** The input a graph accepts for a new run (its update type; resuming with a `Command` is separate). */
export type GraphInput<G extends RunnableGraph> = Exclude<Parameters<G["invoke"]>[0], null | undefined | AnyCommand>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- matches every Command whatever its generics
type AnyCommand = CommandInstance<any, any, any>;
/** The state a graph returns. */
export type GraphState<G extends RunnableGraph> = Awaited<ReturnType<G["invoke"]>>;

/** Used when a graph records no step budget (see `setStepBudget`). */
export const DEFAULT_STEP_LIMIT = 100;

export interface RunOptions {
  /** Conversation/checkpoint thread; a new id when omitted. */
  threadId?: string;
  /** Cancels the run, its model requests and its tools. */
  signal?: AbortSignal;
  /** Most LangGraph supersteps; derived from the graph's agents when omitted. */
  stepLimit?: number;
  /** The default model for agents that name none (default: from the environment, offline when nothing is configured). */
  model?: BaseChatModel;
  /** Label for `model` in events and results (default: derived from the model). */
  modelInfo?: ModelInfo;
  /** Receives every event of the run; share one emitter between runs to watch them all. */
  events?: RunEvents;
  /** Name shown in `run-start` (default: the graph's name). */
  graphName?: string;
  /** Extra LangChain config: callbacks, tags, metadata, configurable. */
  config?: RunnableConfig;
  /** How model calls are retried, timed out and broken off (defaults: `DEFAULT_RESILIENCE`). */
  resilience?: Partial<Omit<ResilienceOptions, "breaker">> & { breaker?: Partial<ResilienceOptions["breaker"]> };
  /** When a model fails for good: backup models, then the cache, then a template answer. */
  fallback?: FallbackChain;
  /** Rate limits (token buckets per model and per user or key, with priorities) for this run's model requests. */
  rateLimit?: RunRateLimit;
  /** Answer repeated model requests from this cache (calls that sample only when it says so). */
  cache?: ResponseCache;
  /** Prices per model for cost accounting and cost caps (default: `DEFAULT_PRICE_TABLE`). */
  pricing?: PriceTable;
  /** A hard limit on the whole run: when it passes, everything in flight (requests, tools) is cancelled and the run fails. For a graceful stop with the best result so far, use `budget.maxWallTimeMs`. */
  runTimeoutMs?: number;
  /** Caps on model calls, tokens, cost and wall time for the whole run; calls past them raise BudgetExceededError. */
  budget?: RunBudget;
  /** Where the provider lives, for error messages (set by the CLI). */
  endpoint?: string;
  /** Provider timeout in ms, for error messages (set by the CLI). */
  timeoutMs?: number;
  /**
   * Persists the run after every step, so it can be resumed after a crash (`resume`), paused for
   * approvals and inspected. Attached to the graph (as `compile({ checkpointer })` would).
   */
  checkpointer?: BaseCheckpointSaver;
  /** The dedupe ledger of side-effecting tool calls (default: one in memory for this run). Pass a persistent one (`SqliteEffectLedger`) so effects survive a crash. */
  effects?: EffectLedger;
  /** Pause for a human's approval of the final answer (graphs that call `approveAnswer`). */
  approveAnswer?: boolean;
  /** Record every model and tool call to a cassette, or answer them from one (see `Cassette`). */
  cassette?: CassetteLike;
  /** Applied to every event before anyone sees it, e.g. `(event) => redactor.redactValue(event)` so secrets never reach logs and traces. */
  redact?: <T>(value: T) => T;
}

/** What a finished run returns: the graph's final state, typed from the graph, and its accounting. */
export interface RunResult<S> {
  /** "interrupted": the run paused for the approvals in `pending`; continue it with `resume`. */
  status: "done" | "interrupted";
  /** The approvals an interrupted run waits for. */
  pending: PendingApproval[];
  /** The final state; for an interrupted run, the state so far. */
  state: S;
  runId: string;
  threadId: string;
  model: ModelInfo;
  usage: RunUsage;
  durationMs: number;
}

/** A running `stream()`: iterate it for events (including `token`s); `result` settles when it ends. */
export interface RunStream<S> extends AsyncIterable<ConclaveEvent> {
  result: Promise<RunResult<S>>;
}

/**
 * Runs a compiled graph to the end and returns its typed final state with usage. Every run emits
 * `run-start`, node, model and tool events and `run-end` on `options.events`. Failures are thrown
 * as `ConclaveError`s that say what to fix; nothing the graph did is hidden.
 *
 * @example
 * const { state, usage } = await run(createAgentGraph(agent), { messages: [new HumanMessage("2+2?")] });
 */
export async function run<G extends RunnableGraph>(graph: G, input: GraphInput<G>, options: RunOptions = {}): Promise<RunResult<GraphState<G>>> {
  return execute(graph, input, options, false);
}

/**
 * Like `run`, but yields the run's events as they happen, plus `token` events for model output
 * (LangGraph's `messages` stream mode, so the model itself is not switched to streaming).
 */
export function stream<G extends RunnableGraph>(graph: G, input: GraphInput<G>, options: RunOptions = {}): RunStream<GraphState<G>> {
  const queue = new AsyncQueue<ConclaveEvent>();
  const events = options.events ?? new RunEvents();
  const runId = randomUUID();
  // A shared emitter carries other runs' events too; this stream yields its own run's only.
  const forward = (event: ConclaveEvent) => {
    if (event.runId === runId) queue.push(event);
  };
  events.on("event", forward);
  const detach = () => events.off("event", forward);
  const result = execute(graph, input, { ...options, events }, true, runId).finally(() => {
    detach();
    queue.end();
  });
  // The caller may only iterate; the rejection is still delivered through `result`.
  result.catch(() => undefined);
  return { result, [Symbol.asyncIterator]: () => queue.iterate(detach) };
}

/** What `resume` needs: the thread, and the decisions for a run paused for approvals. */
export interface ResumeOptions extends RunOptions {
  threadId: string;
  /** One decision for every pending approval, or decisions by interrupt id (see `PendingApproval`). */
  decisions?: ApprovalDecision | Record<string, ApprovalDecision>;
  /** Continue from this earlier checkpoint instead of the latest (time travel: a fork of the thread). */
  checkpointId?: string;
}

/**
 * Continues a thread from its last checkpoint: a run cut off by a crash, a failure or a budget
 * stop; a run paused for approvals (with `decisions`); or, with `checkpointId`, a fork from an
 * earlier step. Steps that completed are not run again, and side-effecting tool calls that
 * completed are answered from the ledger. Needs the graph's (or `options.checkpointer`) store.
 *
 * @example
 * const paused = await run(graph, input, { checkpointer, threadId: "t1" });
 * if (paused.status === "interrupted") await resume(graph, { checkpointer, threadId: "t1", decisions: { decision: "approve", actor: "ana" } });
 */
export async function resume<G extends RunnableGraph>(graph: G, options: ResumeOptions): Promise<RunResult<GraphState<G>>> {
  if (options.checkpointer) attachCheckpointer(graph, options.checkpointer);
  const config = { configurable: { thread_id: options.threadId, ...(options.checkpointId ? { checkpoint_id: options.checkpointId } : {}) } };
  const snapshot = await stateOf(graph, config);
  if (!snapshot?.config?.configurable?.checkpoint_id) {
    throw new ApprovalDecisionError(`Thread "${options.threadId}" has no checkpoints${options.checkpointId ? ` at checkpoint ${options.checkpointId}` : ""}: there is nothing to resume. Start it with run(), or check the thread id and the checkpointer.`);
  }
  const pending = approvalsOf(snapshot.tasks.flatMap((task) => task.interrupts ?? []));
  let input: unknown = null;
  const decided: Array<{ approval: PendingApproval; decision: ReturnType<typeof parseDecision> }> = [];
  if (options.decisions !== undefined) {
    if (pending.length === 0) throw new ApprovalDecisionError(`Thread "${options.threadId}" is not waiting for an approval. Resume it without decisions.`);
    const byId = isDecision(options.decisions) ? undefined : options.decisions;
    for (const id of Object.keys(byId ?? {})) {
      if (!pending.some((approval) => approval.interruptId === id)) throw new ApprovalDecisionError(`No pending approval has id "${id}". Pending: ${pending.map((approval) => `${approval.interruptId} (${approval.request.summary.slice(0, 60)})`).join("; ")}.`, { pending: pending.map((approval) => approval.interruptId) });
    }
    for (const approval of pending) {
      const raw = byId ? byId[approval.interruptId] : options.decisions;
      if (raw !== undefined) decided.push({ approval, decision: parseDecision(raw) });
    }
    input = new Command({ resume: Object.fromEntries(decided.map(({ approval, decision }) => [approval.interruptId, decision])) });
  } else if (pending.length > 0) {
    throw new ApprovalDecisionError(`Thread "${options.threadId}" is waiting for ${pending.length} approval(s): ${pending.map((approval) => approval.request.summary.slice(0, 80)).join("; ")}. Pass decisions (conclave approve / reject).`, { pending: pending.map((approval) => approval.interruptId) });
  }
  const runOptions: RunOptions = { ...options, ...(options.checkpointId ? { config: { ...options.config, configurable: { ...options.config?.configurable, checkpoint_id: options.checkpointId } } } : {}) };
  return execute(graph, input as GraphInput<G>, runOptions, false, randomUUID(), { resumed: true, decided });
}

function isDecision(value: ApprovalDecision | Record<string, ApprovalDecision>): value is ApprovalDecision {
  return typeof value === "object" && value !== null && typeof (value as { decision?: unknown }).decision === "string";
}

/** The latest (or the given) checkpoint of a thread, or undefined for a graph that cannot say. */
export async function stateOf(graph: RunnableGraph, config: { configurable: Record<string, unknown> }): Promise<StateSnapshot | undefined> {
  const getState = (graph as { getState?: (config: unknown) => Promise<StateSnapshot> }).getState;
  return typeof getState === "function" ? getState.call(graph, config) : undefined;
}

/** Gives a compiled graph a checkpointer, as `compile({ checkpointer })` would have. */
export function attachCheckpointer(graph: RunnableGraph, checkpointer: BaseCheckpointSaver): void {
  (graph as { checkpointer?: unknown }).checkpointer = checkpointer;
}

interface ExecuteExtras {
  resumed?: boolean;
  decided?: Array<{ approval: PendingApproval; decision: ReturnType<typeof parseDecision> }>;
}

async function execute<G extends RunnableGraph>(graph: G, input: GraphInput<G>, options: RunOptions, tokens: boolean, runId: string = randomUUID(), extras: ExecuteExtras = {}): Promise<RunResult<GraphState<G>>> {
  if (options.checkpointer) attachCheckpointer(graph, options.checkpointer);
  const durable = (graph as { checkpointer?: unknown }).checkpointer !== undefined && (graph as { checkpointer?: unknown }).checkpointer !== false;
  const threadId = options.threadId ?? randomUUID();
  const model = options.model ?? defaultModel();
  const modelInfo = options.modelInfo ?? describeModel(model);
  const stepLimit = options.stepLimit ?? stepBudgetOf(graph) ?? DEFAULT_STEP_LIMIT;
  const usage: RunUsage = { modelCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, retries: 0, cachedCalls: 0, savedCostUsd: 0, byAgent: {}, byRound: {} };
  const sink = countingSink(redacting(createEventSink(options.events ?? new RunEvents(), runId, threadId), options.redact), usage);
  const startedAt = Date.now();
  const graphName = options.graphName ?? (graph as { name?: string }).name ?? "graph";
  sink.emit({ type: "run-start", graph: graphName, model: modelInfo, input: (input as unknown) instanceof Command ? { resume: true } : plain(input), ...(extras.resumed ? { resumed: true } : {}) });
  for (const { approval, decision } of extras.decided ?? []) {
    sink.emit({ type: "approval-decision", interruptId: approval.interruptId, kind: approval.request.kind, decision: decision.decision === "approve" ? "approved" : decision.decision === "edit" ? "edited" : "rejected", actor: decision.actor, ...(approval.request.tool ? { tool: approval.request.tool } : {}), ...(decision.decision === "reject" ? { reason: decision.reason } : {}), ...(decision.decision === "edit" ? { edit: decision.edit } : {}) });
  }

  const resilience = { ...DEFAULT_RESILIENCE, ...options.resilience, breaker: { ...DEFAULT_RESILIENCE.breaker, ...options.resilience?.breaker } };
  const context: ConclaveContext = {
    model,
    modelInfo,
    events: sink,
    usage,
    inFlight: { modelCalls: 0, tokens: 0, costUsd: 0 },
    resilience: { options: resilience, retryBudget: { remaining: resilience.retryBudget } },
    pricing: options.pricing ?? DEFAULT_PRICE_TABLE,
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.fallback ? { fallback: options.fallback } : {}),
    startedAt,
    ...(options.budget ? { budget: options.budget } : {}),
    effects: options.effects ?? ledgerFor((graph as { checkpointer?: unknown }).checkpointer),
    threadId,
    toolReports: new Map(),
    ...(options.approveAnswer ? { approveAnswer: true } : {}),
    ...(options.cassette ? { cassette: options.cassette } : {}),
  };
  const signal = combineSignals(options.signal, options.runTimeoutMs);
  // LangGraph adds an abort listener per subgraph call in flight (and removes it after): a wide fan-out is not a leak.
  if (signal) setMaxListeners(0, signal);
  // Nodes report their own start and end (see observeNode) rather than through LangGraph's
  // `tasks` stream mode or a callback handler: those measured 7% and 35% slower than raw LangGraph.
  const config = {
    ...options.config,
    recursionLimit: stepLimit,
    configurable: { ...options.config?.configurable, thread_id: threadId },
    context,
    streamMode: tokens ? ["values", "messages"] : "values",
    // With a store, every step is written before the next begins: a killed process loses only the steps in flight.
    ...(durable ? { durability: "sync" } : {}),
    ...(signal ? { signal } : {}),
  };
  // Breakers are shared by the process; while this run lasts, their changes are its events too.
  const stopWatchingBreakers = breakers.onChange((change) => sink.emit({ type: "breaker", ...change }));
  try {
    let state: unknown;
    const interrupts: Array<{ id?: string; value?: unknown }> = [];
    // An interrupt arrives as a values chunk of its own; the state before it is the run's state so far.
    const onValues = (chunk: unknown) => {
      const raised = (chunk as { __interrupt__?: Array<{ id?: string; value?: unknown }> } | undefined)?.__interrupt__;
      if (raised) interrupts.push(...raised);
      else state = chunk;
    };
    for await (const item of (await graph.stream(input as never, config as never)) as AsyncIterable<unknown>) {
      if (!tokens) onValues(item);
      else {
        const [mode, chunk] = item as [string, unknown];
        if (mode === "values") onValues(chunk);
        else emitToken(sink, chunk);
      }
    }
    if (state === undefined && durable) state = (await stateOf(graph, { configurable: { thread_id: threadId } }))?.values;
    const pending = approvalsOf(interrupts);
    for (const approval of pending) {
      const { kind, tool, args, summary } = approval.request;
      sink.emit({ type: "approval-request", interruptId: approval.interruptId, kind, summary, ...(tool ? { tool } : {}), ...(args !== undefined ? { args } : {}) });
    }
    const status = interrupts.length ? "interrupted" : "done";
    const durationMs = Date.now() - startedAt;
    sink.emit({ type: "run-end", status, durationMs, usage: copyUsage(usage) });
    return { status, pending, state: state as GraphState<G>, runId, threadId, model: modelInfo, usage: copyUsage(usage), durationMs };
  } catch (caught) {
    const error = toConclaveError(caught, { stepLimit, ...pickDefined({ signal, endpoint: options.endpoint, timeoutMs: options.timeoutMs, runTimeoutMs: options.runTimeoutMs }) });
    sink.emit({ type: "error", error: error.toJSON() });
    sink.emit({ type: "run-end", status: error.code === "RUN_ABORTED" ? "aborted" : "failed", durationMs: Date.now() - startedAt, usage: copyUsage(usage), error: error.toJSON() });
    throw error;
  } finally {
    stopWatchingBreakers();
  }
}

/** Without a ledger of its own, a run shares one per checkpointer, so `resume()` knows what the first run applied. */
const ledgers = new WeakMap<object, EffectLedger>();
function ledgerFor(checkpointer: unknown): EffectLedger {
  if (typeof checkpointer !== "object" || checkpointer === null) return new MemoryEffectLedger();
  let ledger = ledgers.get(checkpointer);
  if (!ledger) ledgers.set(checkpointer, (ledger = new MemoryEffectLedger()));
  return ledger;
}

/** The input as plain JSON (messages become their serialised form), so events carry data, not class instances a redactor cannot see into. */
function plain(input: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(input ?? null)) as unknown;
  } catch {
    return String(input);
  }
}

function redacting(sink: RunEventSink, redact: RunOptions["redact"]): RunEventSink {
  if (!redact) return sink;
  return { runId: sink.runId, threadId: sink.threadId, emit: (payload) => sink.emit(redact(payload)) };
}

/** Adds every model and tool call to the run's usage as its events pass. */
function countingSink(sink: RunEventSink, usage: RunUsage): RunEventSink {
  return {
    runId: sink.runId,
    threadId: sink.threadId,
    emit(payload) {
      if (payload.type === "llm-call-end") {
        add(usage, payload.usage, payload.costUsd);
        if (payload.cached) {
          usage.cachedCalls += 1;
          usage.savedCostUsd += payload.savedCostUsd ?? 0;
        }
        if (payload.agent) add((usage.byAgent[payload.agent] ??= emptyCounts()), payload.usage, payload.costUsd);
        if (payload.round !== undefined) add((usage.byRound[String(payload.round)] ??= emptyCounts()), payload.usage, payload.costUsd);
      } else if (payload.type === "tool-call-end") {
        usage.toolCalls += 1;
      } else if (payload.type === "retry") {
        usage.retries += 1;
      }
      sink.emit(payload);
    },
  };
}

function add(into: TokenUsage & { modelCalls: number; costUsd: number }, call: TokenUsage, costUsd: number): void {
  into.modelCalls += 1;
  into.costUsd += costUsd;
  into.inputTokens += call.inputTokens;
  into.outputTokens += call.outputTokens;
  into.totalTokens += call.totalTokens;
}

function emptyCounts(): TokenUsage & { modelCalls: number; costUsd: number } {
  return { modelCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 };
}

function copyUsage(usage: RunUsage): RunUsage {
  const copy = (table: RunUsage["byAgent"]) => Object.fromEntries(Object.entries(table).map(([key, counts]) => [key, { ...counts }]));
  return { ...usage, byAgent: copy(usage.byAgent), byRound: copy(usage.byRound) };
}

function emitToken(sink: RunEventSink, chunk: unknown): void {
  const [message, metadata] = chunk as [BaseMessage | undefined, Record<string, unknown> | undefined];
  // Streaming models send chunks; others send their whole answer once.
  if (!message || !(AIMessageChunk.isInstance(message) || AIMessage.isInstance(message)) || !message.text) return;
  const node = metadata?.langgraph_node;
  sink.emit({ type: "token", text: message.text, ...(typeof node === "string" ? { node } : {}) });
}

/** The caller's signal, joined with a timer for the run's hard time limit. */
function combineSignals(signal: AbortSignal | undefined, runTimeoutMs: number | undefined): AbortSignal | undefined {
  if (runTimeoutMs === undefined) return signal;
  const timer = AbortSignal.timeout(runTimeoutMs);
  return signal ? AbortSignal.any([signal, timer]) : timer;
}

function pickDefined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
