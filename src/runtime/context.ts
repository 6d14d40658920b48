import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { RunEventSink } from "../events/emitter.ts";
import type { EventPayload, ModelInfo, RunUsage } from "../events/types.ts";
import type { ResilienceOptions } from "../resilience/model-policy.ts";
import type { ResponseCache } from "../resilience/cache/response-cache.ts";
import type { FallbackChain } from "../resilience/fallback.ts";
import type { Priority, RateLimiter } from "../resilience/rate-limit/index.ts";
import type { PriceTable } from "../resilience/pricing.ts";
import type { RunBudget } from "./budget.ts";
import type { EffectLedger } from "../persistence/effects.ts";

/**
 * What `run()` hands every node through LangGraph's runtime `context` (never checkpointed):
 * the run's default model and its event sink. Graphs read it with `runContext(config)`.
 */
export interface ConclaveContext {
  /** The model agents use when their definition names none. */
  model?: BaseChatModel;
  /** Provider and name of `model`, for labels. */
  modelInfo?: ModelInfo;
  /** Where nodes report tool calls and other events. */
  events?: RunEventSink;
  /** The run's usage so far (live: updated as calls end). */
  usage?: RunUsage;
  /** The run's caps; model calls are refused once one is reached. */
  budget?: RunBudget;
  /** Model calls reserved but not yet ended, with their estimated tokens and cost (see `reserveModelCall`). */
  inFlight?: { modelCalls: number; tokens: number; costUsd: number };
  /** How this run's model calls are retried, timed out and broken off, and its retries left. */
  resilience?: { options: ResilienceOptions; retryBudget: { remaining: number } };
  /** Prices for cost accounting; models it does not know are warned about once. */
  pricing?: PriceTable;
  /** When the run started (for the wall-time cap). */
  startedAt?: number;
  /** Models already warned about as unpriced in this run. */
  warned?: Set<string>;
  /** The response cache, when the run has one. */
  cache?: ResponseCache;
  /** Rate limits every model request waits for, and this run's extra keys (user, API key) and priority. */
  rateLimit?: RunRateLimit;
  /** What answers when a model fails for good: backup models, the cache, a template. */
  fallback?: FallbackChain;
  /** The dedupe ledger of side-effecting tool calls (see `defineTool({ sideEffects })`). */
  effects?: EffectLedger;
  /** The run's thread. */
  threadId?: string;
  /** What a tool call reported about itself (idempotency key, deduplicated), by call id, for its `tool-call-end` event. */
  toolReports?: Map<string, ToolCallReport>;
  /** Pause for a human's approval before a graph's final answer (see `approveAnswer`). */
  approveAnswer?: boolean;
  /** Records or replays model and tool calls (`--record` / `--replay`). */
  cassette?: CassetteLike;
}

/** What a side-effecting tool call tells its `tool-call-end` event. */
export interface ToolCallReport {
  sideEffects?: boolean;
  idempotencyKey?: string;
  deduplicated?: boolean;
  /** The side-effecting call threw after it began. */
  failed?: string;
}

/** The part of a cassette the runtime uses (see `Cassette` in `conclave`'s replay module). */
export interface CassetteLike {
  readonly mode: "record" | "replay";
  model<T>(request: { key: string; model: string; agent?: string; node?: string; round?: number; summary: string }, call: () => Promise<T>): Promise<T>;
  tool(request: { tool: string; args: unknown; agent?: string; node?: string }, call: () => Promise<{ content: string; status: "success" | "error" }>): Promise<{ content: string; status: "success" | "error" }>;
}

/** How a run's model requests are rate-limited. */
export interface RunRateLimit {
  /** Usually one limiter per process, shared by every run (it holds the buckets). */
  limiter: RateLimiter;
  /** Keys besides the model's own, e.g. "user:alice" or "key:ab12". */
  keys?: string[];
  priority?: Priority;
  /** Longest a request may wait for room before failing with RateLimitTimeoutError. */
  deadlineMs?: number;
}

/** Reports an event (a decision, a round's end, …) to the current run; does nothing outside `run()`. */
export function reportEvent(config: LangGraphRunnableConfig | undefined, payload: EventPayload): void {
  runContext(config).events?.emit(payload);
}

/** The Conclave context of the current node call (empty outside `run()`). */
export function runContext(config: LangGraphRunnableConfig | undefined): ConclaveContext {
  const context = (config as { context?: unknown } | undefined)?.context;
  return typeof context === "object" && context !== null ? (context as ConclaveContext) : {};
}
