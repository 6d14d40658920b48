import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import { AIMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import type { RunEventSink } from "./emitter.ts";
import type { TokenUsage } from "./types.ts";

/** Metadata key that names the Conclave agent a model call belongs to. */
export const AGENT_METADATA_KEY = "conclave_agent";

interface OpenCall {
  startedAt: number;
  model: string;
  node?: string;
  agent?: string;
}

interface OpenNode {
  startedAt: number;
  node: string;
  step: number;
  namespace: string;
}

const EMPTY_USAGE: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };

/**
 * Turns LangChain/LangGraph callbacks into Conclave events. It is the only place that knows the
 * callback API, so every model call in a graph — ours or a user's own node — shows up in the event
 * stream. Handlers run inline (`awaitHandlers`) so events are ordered and done before `run-end`.
 */
export class EventCallbackHandler extends BaseCallbackHandler {
  name = "conclave-events";
  override awaitHandlers = true;
  private readonly calls = new Map<string, OpenCall>();
  private readonly nodes = new Map<string, OpenNode>();

  constructor(private readonly sink: RunEventSink) {
    super();
  }

  // LangChain calls this as (chain, inputs, runId, parentRunId, tags, metadata, ...), whatever the
  // interface's parameter names say; only the positions we read matter here.
  override handleChainStart(_chain: Serialized, _inputs: ChainValues, runId: string, _parentRunId?: string, tags?: string[], metadata?: Record<string, unknown>): void {
    const node = metadata?.langgraph_node;
    // A node's own task run is tagged with its superstep; runnables inside the node only inherit the
    // metadata. Hidden runs are LangGraph's own bookkeeping (__start__, channel writes).
    if (typeof node !== "string" || !tags?.some((tag) => tag.startsWith("graph:step:")) || tags.includes("langsmith:hidden")) return;
    const open: OpenNode = {
      startedAt: Date.now(),
      node,
      step: typeof metadata?.langgraph_step === "number" ? metadata.langgraph_step : 0,
      namespace: typeof metadata?.langgraph_checkpoint_ns === "string" ? parentNamespace(metadata.langgraph_checkpoint_ns) : "",
    };
    this.nodes.set(runId, open);
    this.sink.emit({ type: "node-start", node, step: open.step, namespace: open.namespace });
  }

  override handleChainEnd(_outputs: ChainValues, runId: string): void {
    this.endNode(runId);
  }

  override handleChainError(error: Error, runId: string): void {
    this.endNode(runId, error);
  }

  override handleChatModelStart(llm: Serialized, messages: BaseMessage[][], runId: string, _parentRunId?: string, extraParams?: Record<string, unknown>, _tags?: string[], metadata?: Record<string, unknown>): void {
    const open: OpenCall = {
      startedAt: Date.now(),
      model: modelName(llm, extraParams, metadata),
      ...optionalString("node", metadata?.langgraph_node),
      ...optionalString("agent", metadata?.[AGENT_METADATA_KEY]),
    };
    this.calls.set(runId, open);
    this.sink.emit({ type: "llm-call-start", callId: runId, model: open.model, messageCount: messages[0]?.length ?? 0, ...pick(open) });
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    const open = this.calls.get(runId);
    if (!open) return;
    this.calls.delete(runId);
    const generation = output.generations[0]?.[0] as { message?: unknown; text?: string } | undefined;
    const message = generation?.message instanceof AIMessage || AIMessage.isInstance(generation?.message) ? (generation?.message as AIMessage) : undefined;
    this.sink.emit({
      type: "llm-call-end",
      callId: runId,
      model: open.model,
      latencyMs: Date.now() - open.startedAt,
      usage: usageOf(message, output),
      toolCalls: (message?.tool_calls ?? []).map((call) => ({ name: call.name, args: call.args })),
      text: (message?.text ?? generation?.text ?? "").slice(0, 500),
      ...pick(open),
    });
  }

  override handleLLMError(error: Error, runId: string): void {
    const open = this.calls.get(runId);
    if (!open) return;
    this.calls.delete(runId);
    this.sink.emit({ type: "llm-call-end", callId: runId, model: open.model, latencyMs: Date.now() - open.startedAt, usage: EMPTY_USAGE, toolCalls: [], text: "", error: error.message, ...pick(open) });
  }

  private endNode(runId: string, error?: Error): void {
    const open = this.nodes.get(runId);
    if (!open) return;
    this.nodes.delete(runId);
    this.sink.emit({ type: "node-end", node: open.node, step: open.step, namespace: open.namespace, durationMs: Date.now() - open.startedAt, ...(error ? { error: error.message } : {}) });
  }
}

function pick(open: OpenCall): { node?: string; agent?: string } {
  return { ...optionalString("node", open.node), ...optionalString("agent", open.agent) };
}

function optionalString<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === "string" ? ({ [key]: value } as Record<K, string>) : {};
}

/** "outer:task-id|inner:task-id" → "outer" for a node of the inner graph; "" at the top level. */
function parentNamespace(checkpointNs: string): string {
  const parts = checkpointNs.split("|").map((part) => part.split(":")[0] ?? "");
  return parts.slice(0, -1).join("/");
}

function modelName(llm: Serialized, extraParams?: Record<string, unknown>, metadata?: Record<string, unknown>): string {
  const fromMetadata = metadata?.ls_model_name;
  if (typeof fromMetadata === "string") return fromMetadata;
  const invocation = extraParams?.invocation_params as Record<string, unknown> | undefined;
  if (typeof invocation?.model === "string") return invocation.model;
  return llm.id.at(-1) ?? "unknown";
}

function usageOf(message: AIMessage | undefined, output: LLMResult): TokenUsage {
  const usage = message?.usage_metadata;
  if (usage) return { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens, totalTokens: usage.total_tokens };
  const legacy = (output.llmOutput?.tokenUsage ?? output.llmOutput?.estimatedTokenUsage) as { promptTokens?: number; completionTokens?: number } | undefined;
  const inputTokens = legacy?.promptTokens ?? 0;
  const outputTokens = legacy?.completionTokens ?? 0;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}
