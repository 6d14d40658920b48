import { randomUUID } from "node:crypto";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { TokenUsage } from "../events/types.ts";
import { DEFAULT_RESILIENCE, callWithResilience } from "../resilience/model-policy.ts";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ModelInfo } from "../events/types.ts";
import { modelRequestKey } from "../resilience/cache/keys.ts";
import { withFallbacks } from "../resilience/fallback.ts";
import type { FallbackLevel } from "../resilience/fallback.ts";
import { fromStored, toStored } from "../resilience/cache/response-cache.ts";
import { DEFAULT_PRICE_TABLE, costOf, priceOf } from "../resilience/pricing.ts";
import { reserveModelCall } from "../runtime/budget.ts";
import type { ConclaveContext } from "../runtime/context.ts";
import { runContext } from "../runtime/context.ts";

/** Metadata key naming the Conclave agent a model or tool call belongs to. */
export const AGENT_METADATA_KEY = "conclave_agent";

const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

/** Which call this is, for its events. */
export interface ModelCallLabel {
  /** The model's name as shown in events. */
  model: string;
  /** Its provider; with the name it keys the circuit breaker. */
  provider?: string;
  /** How many messages are sent. */
  messageCount: number;
  /** What is sent, when the call may be answered from the response cache. */
  request?: { messages: readonly unknown[]; tools?: readonly unknown[]; parameters?: Record<string, unknown> };
  /** Whether the call samples (temperature above zero): such calls are cached only when asked. */
  sampling?: boolean;
  /** A structured-output call: a template answer cannot stand in for it. */
  structured?: boolean;
}

/**
 * Runs one model call the way every Conclave model call runs: reserved against the run's budget,
 * retried / timed out / broken off by the resilience policy, and reported as `llm-call-start` /
 * `llm-call-end` (model, tokens, latency, tool calls), with `retry`, `give-up` and `breaker`
 * events. Call it from your own nodes too, passing the attempt's signal on:
 * `observeModelCall(config, label, (signal) => model.invoke(messages, { ...config, signal }))`.
 */
export async function observeModelCall<T>(config: LangGraphRunnableConfig | undefined, label: ModelCallLabel, call: (signal?: AbortSignal, backup?: BaseChatModel) => Promise<T>, messageOf: (output: T) => BaseMessage | undefined = asMessage): Promise<T> {
  const context = runContext(config);
  const events = context.events;
  const release = reserveModelCall(config);
  const where = whereOf(config);
  const agent = where.agent ? { agent: where.agent } : {};
  // One model's attempt: rate limit → retries → breaker → timeout.
  const attempt = (backup?: { model: BaseChatModel; info: ModelInfo }) => {
    const target = backup ? { ...label, model: backup.info.name, provider: backup.info.provider } : label;
    const limited = (signal: AbortSignal) => (context.rateLimit ? callWithinRateLimit(context.rateLimit, target, signal, () => call(signal, backup?.model)) : call(signal, backup?.model));
    return callWithResilience(limited, {
      key: `${target.provider ?? "model"}:${target.model}`,
      options: context.resilience?.options ?? DEFAULT_RESILIENCE,
      ...(config?.signal ? { signal: config.signal } : {}),
      ...(context.resilience ? { retryBudget: context.resilience.retryBudget } : {}),
      hooks: {
        onRetry: (retry) => events?.emit({ type: "retry", model: target.model, ...retry, ...agent }),
        onGiveUp: (giveUp) => events?.emit({ type: "give-up", model: target.model, ...giveUp, ...agent }),
        onBreaker: (change) => events?.emit({ type: "breaker", ...change }),
      },
    });
  };
  const staleKey = label.request ? requestKey(label) : undefined;
  const answer = () =>
    withFallbacks(context.fallback, {
      call: attempt,
      ...(staleKey && context.cache ? { cached: async () => (await readCache(context, staleKey)) as T | undefined } : {}),
      acceptsText: label.structured !== true,
      onFallback: (change) => events?.emit({ type: "fallback", from: label.model, ...change, ...agent }),
    });
  const cacheKey = cacheKeyFor(context, label);
  const cached = cacheKey ? await readCache(context, cacheKey) : undefined;
  if (!events) {
    try {
      if (cached !== undefined) return cached as T;
      const { output, level } = await answer();
      if (cacheKey && level !== "cache" && level !== "template") await writeCache(context, cacheKey, output);
      return output;
    } catch (error) {
      throw markModelCallError(error);
    } finally {
      release();
    }
  }
  const callId = randomUUID();
  const startedAt = Date.now();
  events.emit({ type: "llm-call-start", callId, model: label.model, messageCount: label.messageCount, ...where });
  try {
    const result: { output: T; level: FallbackLevel; model?: string; hit?: boolean } = cached !== undefined ? { output: cached as T, level: "primary", hit: true } : await answer();
    const { output, level } = result;
    const message = messageOf(output);
    const ai = message && (AIMessage.isInstance(message) || AIMessageChunk.isInstance(message)) ? (message as AIMessage) : undefined;
    const usage = usageOf(ai);
    const answeredBy = result.model ?? label.model;
    const fromCache = result.hit === true || level === "cache";
    const free = fromCache || level === "template";
    const cost = level === "template" ? 0 : priceCall(context, answeredBy, usage);
    if (cacheKey && !free) await writeCache(context, cacheKey, output);
    events.emit({
      type: "llm-call-end",
      callId,
      model: answeredBy,
      latencyMs: Date.now() - startedAt,
      // A cached answer costs nothing now; what it would have cost is reported as saved.
      usage: free ? NO_USAGE : usage,
      costUsd: free ? 0 : cost,
      ...(fromCache ? { cached: true, savedCostUsd: cost } : {}),
      ...(level !== "primary" ? { answeredBy: level } : {}),
      toolCalls: (ai?.tool_calls ?? []).map((toolCall) => ({ name: toolCall.name, args: toolCall.args })),
      text: (ai?.text ?? "").slice(0, 500),
      ...where,
    });
    return output;
  } catch (error) {
    markModelCallError(error);
    events.emit({ type: "llm-call-end", callId, model: label.model, latencyMs: Date.now() - startedAt, usage: NO_USAGE, costUsd: 0, toolCalls: [], text: "", error: error instanceof Error ? error.message : String(error), ...where });
    throw error;
  } finally {
    release();
  }
}

/**
 * Waits for room in the run's rate limits (the model's bucket, and e.g. the user's), one request and
 * an estimate of the tokens; then corrects the token count with what the call used, and lets a
 * 429's rate-limit headers lower the model's bucket.
 */
async function callWithinRateLimit<T>(rate: NonNullable<ConclaveContext["rateLimit"]>, label: ModelCallLabel, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  const modelKey = `model:${label.provider ?? "model"}:${label.model}`;
  const keys = [modelKey, ...(rate.keys ?? [])];
  const estimate = Math.ceil(JSON.stringify(label.request?.messages ?? []).length / 4) + 256;
  await rate.limiter.acquire({ keys, tokens: estimate, ...(rate.priority ? { priority: rate.priority } : {}), ...(rate.deadlineMs ? { deadlineMs: rate.deadlineMs } : {}), signal });
  try {
    const output = await call();
    const used = (asMessage(output) as AIMessage | undefined)?.usage_metadata?.total_tokens;
    rate.limiter.settle(keys, used ?? estimate, estimate);
    return output;
  } catch (error) {
    const headers = (error as { headers?: Record<string, string | undefined> | Headers }).headers;
    if (headers) rate.limiter.observeHeaders(modelKey, headers);
    throw error;
  }
}

/** The cache key of a call, or nothing when the run has no cache or the call must not be cached. */
function cacheKeyFor(context: ConclaveContext, label: ModelCallLabel): string | undefined {
  const cache = context.cache;
  if (!cache || !label.request || (label.sampling && !cache.cacheSampling)) return undefined;
  return requestKey(label);
}

function requestKey(label: ModelCallLabel): string {
  const request = label.request!;
  return modelRequestKey({ provider: label.provider ?? "model", model: label.model, messages: request.messages, ...(request.tools ? { tools: request.tools } : {}), ...(request.parameters ? { parameters: request.parameters } : {}) });
}

/** A cache that fails is a cache miss, never a failed call (and a warning). */
async function readCache(context: ConclaveContext, key: string): Promise<unknown> {
  try {
    const stored = await context.cache!.store.get<Parameters<typeof fromStored>[0]>(key);
    return stored === undefined ? undefined : fromStored(stored);
  } catch (error) {
    context.events?.emit({ type: "warning", message: `The response cache could not be read (${(error as Error).message}); calling the model instead.` });
    return undefined;
  }
}

async function writeCache(context: ConclaveContext, key: string, output: unknown): Promise<void> {
  const stored = toStored(output);
  if (!stored) return;
  try {
    await context.cache!.store.set(key, stored, context.cache!.ttlMs);
  } catch (error) {
    context.events?.emit({ type: "warning", message: `The response cache could not be written (${(error as Error).message}).` });
  }
}

/** The call's cost from the run's price table; an unknown model is priced by the default and warned about once. */
function priceCall(context: ConclaveContext, model: string, usage: TokenUsage): number {
  const table = context.pricing ?? DEFAULT_PRICE_TABLE;
  const { price, known } = priceOf(model, table);
  if (!known) {
    context.warned ??= new Set();
    if (!context.warned.has(model)) {
      context.warned.add(model);
      context.events?.emit({ type: "warning", message: `No price is known for model "${model}"; costing it at the default $${table.default.input}/$${table.default.output} per million input/output tokens. Add it under "pricing.models" in conclave.config.json.` });
    }
  }
  return costOf(usage, price);
}

const FROM_MODEL_CALL = Symbol.for("conclave.fromModelCall");

/** Marks an error as thrown by a model call, so it is read as a provider failure (and a node's own "timeout" is not). */
function markModelCallError(error: unknown): unknown {
  if (typeof error === "object" && error !== null && Object.isExtensible(error)) Object.defineProperty(error, FROM_MODEL_CALL, { value: true, configurable: true });
  return error;
}

/** Whether an error came out of a model call made through `observeModelCall`. */
export function isModelCallError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[FROM_MODEL_CALL] === true;
}

/** Metadata keys a graph sets so the calls below say which round and task they serve. */
export const ROUND_METADATA_KEY = "conclave_round";
export const TASK_METADATA_KEY = "conclave_task";

/** The node, agent, round and task a call runs in, from LangGraph's and Conclave's metadata. */
export function whereOf(config: LangGraphRunnableConfig | undefined): { node?: string; agent?: string; round?: number; task?: string } {
  const metadata = config?.metadata ?? {};
  const node = metadata.langgraph_node;
  const agent = metadata[AGENT_METADATA_KEY];
  const round = metadata[ROUND_METADATA_KEY];
  const task = metadata[TASK_METADATA_KEY];
  return {
    ...(typeof node === "string" ? { node } : {}),
    ...(typeof agent === "string" ? { agent } : {}),
    ...(typeof round === "number" ? { round } : {}),
    ...(typeof task === "string" ? { task } : {}),
  };
}

/** A copy of `config` whose calls report this round (and task, e.g. a claim or sub-question id). */
export function withRound(config: LangGraphRunnableConfig, round: number, task?: string): LangGraphRunnableConfig {
  return { ...config, metadata: { ...config.metadata, [ROUND_METADATA_KEY]: round, ...(task ? { [TASK_METADATA_KEY]: task } : {}) } };
}

function asMessage(output: unknown): BaseMessage | undefined {
  if (typeof output !== "object" || output === null) return undefined;
  // withStructuredOutput({ includeRaw: true }) answers { raw, parsed }.
  const raw = (output as { raw?: unknown }).raw;
  const candidate = raw ?? output;
  return AIMessage.isInstance(candidate) || AIMessageChunk.isInstance(candidate) ? (candidate as BaseMessage) : undefined;
}

function usageOf(message: AIMessage | undefined): TokenUsage {
  const usage = message?.usage_metadata;
  return usage ? { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, totalTokens: usage.total_tokens } : NO_USAGE;
}
