import { randomUUID } from "node:crypto";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { TokenUsage } from "../events/types.ts";
import { DEFAULT_RESILIENCE, callWithResilience } from "../resilience/model-policy.ts";
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
}

/**
 * Runs one model call the way every Conclave model call runs: reserved against the run's budget,
 * retried / timed out / broken off by the resilience policy, and reported as `llm-call-start` /
 * `llm-call-end` (model, tokens, latency, tool calls), with `retry`, `give-up` and `breaker`
 * events. Call it from your own nodes too, passing the attempt's signal on:
 * `observeModelCall(config, label, (signal) => model.invoke(messages, { ...config, signal }))`.
 */
export async function observeModelCall<T>(config: LangGraphRunnableConfig | undefined, label: ModelCallLabel, call: (signal?: AbortSignal) => Promise<T>, messageOf: (output: T) => BaseMessage | undefined = asMessage): Promise<T> {
  const context = runContext(config);
  const events = context.events;
  const release = reserveModelCall(config);
  const where = whereOf(config);
  const agent = where.agent ? { agent: where.agent } : {};
  const resilient = () =>
    callWithResilience((signal) => call(signal), {
      key: `${label.provider ?? "model"}:${label.model}`,
      options: context.resilience?.options ?? DEFAULT_RESILIENCE,
      ...(config?.signal ? { signal: config.signal } : {}),
      ...(context.resilience ? { retryBudget: context.resilience.retryBudget } : {}),
      hooks: {
        onRetry: (retry) => events?.emit({ type: "retry", model: label.model, ...retry, ...agent }),
        onGiveUp: (giveUp) => events?.emit({ type: "give-up", model: label.model, ...giveUp, ...agent }),
        onBreaker: (change) => events?.emit({ type: "breaker", ...change }),
      },
    });
  if (!events) {
    try {
      return await resilient();
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
    const output = await resilient();
    const message = messageOf(output);
    const ai = message && (AIMessage.isInstance(message) || AIMessageChunk.isInstance(message)) ? (message as AIMessage) : undefined;
    const usage = usageOf(ai);
    events.emit({
      type: "llm-call-end",
      callId,
      model: label.model,
      latencyMs: Date.now() - startedAt,
      usage,
      costUsd: priceCall(context, label.model, usage),
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
