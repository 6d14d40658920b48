import { randomUUID } from "node:crypto";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { TokenUsage } from "../events/types.ts";
import { DEFAULT_RESILIENCE, callWithResilience } from "../resilience/model-policy.ts";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ModelInfo } from "../events/types.ts";
import { withFallbacks } from "../resilience/fallback.ts";
import type { FallbackLevel } from "../resilience/fallback.ts";
import { cacheKeyFor, readCache, requestKey, writeCache } from "../resilience/cache/for-call.ts";
import { DEFAULT_PRICE_TABLE, costOf, priceOf } from "../resilience/pricing.ts";
import { observeRateLimitFailure, settleRateLimit, waitForRateLimit } from "../resilience/rate-limit/for-call.ts";
import { BudgetExceededError, isBudgetExceeded, reserveModelCall } from "../runtime/budget.ts";
import type { ConclaveContext } from "../runtime/context.ts";
import { runContext } from "../runtime/context.ts";
import { summarizeRequest } from "../replay/summary.ts";

/** Metadata key naming the Conclave agent a model or tool call belongs to. */
export const AGENT_METADATA_KEY = "conclave_agent";

const NO_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

/** Which call this is, for its events. */
export interface ModelCallLabel {
  /** The model's name as shown in events. */
  model: string;
  /** Its provider; with the name and endpoint it keys the circuit breaker. */
  provider?: string;
  /** The provider endpoint, when the model talks to one. */
  endpoint?: string;
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
 * answered from the response cache when it can be, otherwise sent down the fallback chain —
 * each model tried behind its rate limit, retries, circuit breaker and per-attempt timeout — and
 * reported as `llm-call-start` / `llm-call-end` (model, tokens, cost, latency, tool calls), with
 * `retry`, `give-up` and `fallback` events. Call it from your own nodes too, passing the
 * attempt's signal on (and the backup model, when one is tried):
 * `observeModelCall(config, label, (signal, backup) => (backup ?? model).invoke(messages, { ...config, signal }))`.
 */
export async function observeModelCall<T>(config: LangGraphRunnableConfig | undefined, label: ModelCallLabel, call: (signal?: AbortSignal, backup?: BaseChatModel) => Promise<T>, messageOf: (output: T) => BaseMessage | undefined = asMessage): Promise<T> {
  const context = runContext(config);
  const events = context.events;
  const release = reserveModelCall(config, estimateOf(context, label));
  const where = whereOf(config);
  const agent = where.agent ? { agent: where.agent } : {};
  const wallTimeLeft = remainingWallTime(context);
  // One model's attempts: rate limit (outside the timeout) → breaker → timeout → the request.
  const attempt = (backup?: { model: BaseChatModel; info: ModelInfo }) => {
    const target: ModelCallLabel = backup ? { ...label, model: backup.info.name, provider: backup.info.provider, ...optional("endpoint", endpointOf(backup.model)) } : label;
    const options = context.resilience?.options ?? DEFAULT_RESILIENCE;
    return callWithResilience((signal) => call(signal, backup?.model), {
      key: breakerKey(target),
      options: wallTimeLeft === undefined ? options : { ...options, timeoutMs: Math.max(1, Math.min(options.timeoutMs, wallTimeLeft)) },
      ...(config?.signal ? { signal: config.signal } : {}),
      ...(context.resilience ? { retryBudget: context.resilience.retryBudget } : {}),
      ...(context.rateLimit ? { beforeAttempt: (signal: AbortSignal | undefined) => waitForRateLimit(context.rateLimit!, target, signal), afterFailure: (error: unknown) => observeRateLimitFailure(context.rateLimit!, target, error) } : {}),
      hooks: {
        onRetry: (retry) => events?.emit({ type: "retry", model: target.model, ...retry, ...agent }),
        onGiveUp: (giveUp) => events?.emit({ type: "give-up", model: target.model, ...giveUp, ...agent }),
      },
    });
  };
  const callId = randomUUID();
  const startedAt = Date.now();
  events?.emit({ type: "llm-call-start", callId, model: label.model, messageCount: label.messageCount, ...where });
  try {
    // A replayed call is answered from the cassette: no cache, no limits, no provider.
    const cassette = context.cassette && label.request ? context.cassette : undefined;
    const recording = cassette && { key: requestKey(label), model: label.model, ...pickWhere(where), summary: summarizeRequest(label.request!.messages) };
    const replayed = cassette?.mode === "replay" ? await cassette.model<T>(recording!, () => Promise.reject(new Error("a replay never calls the model"))) : undefined;
    const cacheKey = replayed === undefined ? cacheKeyFor(context, label, (key, message) => warnOnce(context, key, message)) : undefined;
    const hit = cacheKey ? ((await readCache(context, cacheKey)) as T | undefined) : undefined;
    const result: { output: T; level: FallbackLevel; model?: string; hit?: boolean } =
      replayed !== undefined
        ? { output: replayed, level: "primary" }
        : hit !== undefined
        ? { output: hit, level: "primary", hit: true }
        : await withFallbacks(context.fallback, {
            call: attempt,
            ...(label.request && context.cache ? { cached: async () => ((await readCache(context, `stale:${requestKey(label)}`)) ?? (await readCache(context, requestKey(label)))) as T | undefined } : {}),
            acceptsText: label.structured !== true,
            onFallback: (change) => events?.emit({ type: "fallback", from: label.model, ...change, ...agent }),
          });
    // Recording stores the answer and hands back its stored form, so the run and its replay print the same bytes.
    if (cassette?.mode === "record") result.output = await cassette.model(recording!, async () => result.output);
    const { output, level } = result;
    const message = messageOf(output);
    const ai = message && (AIMessage.isInstance(message) || AIMessageChunk.isInstance(message)) ? (message as AIMessage) : undefined;
    const usage = usageOf(ai);
    const fromCache = result.hit === true || level === "cache";
    const free = fromCache || level === "template";
    const answeredBy = result.model ?? label.model;
    if (context.rateLimit && !free) settleRateLimit(context.rateLimit, { ...label, model: answeredBy }, usage.totalTokens);
    const cost = level === "template" ? 0 : priceCall(context, answeredBy, usage);
    // Only the primary's fresh answers are cached under the primary's request. With a cache level in
    // the fallback chain, the last good answer is also kept — sampled or not — to stand in later.
    if (cacheKey && !free && level === "primary") await writeCache(context, cacheKey, output);
    if (context.fallback?.useCache && context.cache && label.request && !free && level === "primary") await writeCache(context, `stale:${requestKey(label)}`, output);
    events?.emit({
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
  } catch (caught) {
    const cutByWallTime = wallTimeLeft !== undefined && Date.now() - startedAt >= wallTimeLeft && !isBudgetExceeded(caught);
    const error = cutByWallTime ? wallTimeBudgetError(context, caught) : caught;
    markModelCallError(error);
    events?.emit({ type: "llm-call-end", callId, model: label.model, latencyMs: Date.now() - startedAt, usage: NO_USAGE, costUsd: 0, toolCalls: [], text: "", error: error instanceof Error ? error.message : String(error), ...where });
    throw error;
  } finally {
    release();
  }
}

/** The breaker (and Retry-After hold) key: provider, model and endpoint, so one model on two servers is two circuits. */
function breakerKey(label: ModelCallLabel): string {
  return `${label.provider ?? "model"}:${label.model}${label.endpoint ? `@${label.endpoint}` : ""}`;
}

/** Where a provider model sends its requests, when it says. */
export function endpointOf(model: BaseChatModel): string | undefined {
  const url = (model as { clientConfig?: { baseURL?: unknown } }).clientConfig?.baseURL;
  return typeof url === "string" ? url.replace(/\/$/, "") : undefined;
}

/** What a call is expected to take — its prompt plus room for the answer — and what that costs. */
function estimateOf(context: ConclaveContext, label: ModelCallLabel): { tokens: number; costUsd: number } {
  const prompt = Math.ceil(JSON.stringify(label.request?.messages ?? []).length / 4);
  const { price } = priceOf(label.model, context.pricing ?? DEFAULT_PRICE_TABLE);
  return { tokens: prompt + ANSWER_ROOM, costUsd: costOf({ inputTokens: prompt, outputTokens: ANSWER_ROOM }, price) };
}

const ANSWER_ROOM = 512;

function remainingWallTime(context: ConclaveContext): number | undefined {
  const cap = context.budget?.maxWallTimeMs;
  if (cap === undefined || context.startedAt === undefined) return undefined;
  return cap - (Date.now() - context.startedAt);
}

/** A call cut short by the run's wall-time cap is the budget running out, not the provider failing. */
function wallTimeBudgetError(context: ConclaveContext, cause: unknown): BudgetExceededError {
  const error = new BudgetExceededError("maxWallTimeMs", context.budget!.maxWallTimeMs!, Date.now() - context.startedAt!);
  Object.defineProperty(error, "cause", { value: cause });
  return error;
}

function warnOnce(context: ConclaveContext, key: string, message: string): void {
  context.warned ??= new Set();
  if (context.warned.has(key)) return;
  context.warned.add(key);
  context.events?.emit({ type: "warning", message });
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** The call's cost from the run's price table; an unknown model is priced by the default and warned about once. */
function priceCall(context: ConclaveContext, model: string, usage: TokenUsage): number {
  const table = context.pricing ?? DEFAULT_PRICE_TABLE;
  const { price, known } = priceOf(model, table);
  if (!known) warnOnce(context, `price:${model}`, `No price is known for model "${model}"; costing it at the default $${table.default.input}/$${table.default.output} per million input/output tokens. Add it under "pricing.models" in conclave.config.json.`);
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
export function whereOf(config: LangGraphRunnableConfig | undefined): { node?: string; agent?: string; round?: number; task?: string; path?: string } {
  const metadata = config?.metadata ?? {};
  const path = metadata.langgraph_checkpoint_ns;
  const node = metadata.langgraph_node;
  const agent = metadata[AGENT_METADATA_KEY];
  const round = metadata[ROUND_METADATA_KEY];
  const task = metadata[TASK_METADATA_KEY];
  return {
    ...(typeof node === "string" ? { node } : {}),
    ...(typeof agent === "string" ? { agent } : {}),
    ...(typeof round === "number" ? { round } : {}),
    ...(typeof task === "string" ? { task } : {}),
    ...(typeof path === "string" && path ? { path } : {}),
  };
}

/** A copy of `config` whose calls report this round (and task, e.g. a claim or sub-question id). */
export function withRound(config: LangGraphRunnableConfig, round: number, task?: string): LangGraphRunnableConfig {
  return { ...config, metadata: { ...config.metadata, [ROUND_METADATA_KEY]: round, ...(task ? { [TASK_METADATA_KEY]: task } : {}) } };
}

function pickWhere(where: ReturnType<typeof whereOf>): { agent?: string; node?: string; round?: number } {
  return { ...(where.agent ? { agent: where.agent } : {}), ...(where.node ? { node: where.node } : {}), ...(where.round !== undefined ? { round: where.round } : {}) };
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
