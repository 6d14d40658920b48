import type { AttributeValue, Attributes } from "@opentelemetry/api";
import type { ConclaveEvent, EventOf, ModelInfo } from "../events/types.ts";
import { CONCLAVE, GEN_AI, GEN_AI_OPERATION } from "./attributes.ts";

/** What a span records at its start and end, built from the events that open and close it. */

export function runStartAttributes(event: EventOf<"run-start">): Attributes {
  return defined({
    [GEN_AI.operationName]: GEN_AI_OPERATION.invokeAgent,
    [GEN_AI.agentName]: event.graph,
    [GEN_AI.conversationId]: event.threadId,
    [GEN_AI.requestModel]: event.model.name,
    [GEN_AI.providerName]: event.model.provider,
    [CONCLAVE.graph]: event.graph,
    [CONCLAVE.runId]: event.runId,
    [CONCLAVE.threadId]: event.threadId,
    [CONCLAVE.resumed]: event.resumed,
  });
}

export function runEndAttributes(event: EventOf<"run-end">): Attributes {
  const { usage } = event;
  return {
    [CONCLAVE.status]: event.status,
    [GEN_AI.inputTokens]: usage.inputTokens,
    [GEN_AI.outputTokens]: usage.outputTokens,
    [CONCLAVE.costUsd]: usage.costUsd,
    [CONCLAVE.modelCalls]: usage.modelCalls,
    [CONCLAVE.toolCalls]: usage.toolCalls,
  };
}

export function nodeAttributes(event: EventOf<"node-start">): Attributes {
  return defined({
    [CONCLAVE.runId]: event.runId,
    [CONCLAVE.node]: event.node,
    [CONCLAVE.step]: event.step,
    [CONCLAVE.namespace]: event.namespace || undefined,
    [CONCLAVE.path]: event.path,
  });
}

/** `model` names the run's default model, so the provider is known when a call uses it. */
export function chatStartAttributes(event: EventOf<"llm-call-start">, model: ModelInfo): Attributes {
  return defined({
    [GEN_AI.operationName]: GEN_AI_OPERATION.chat,
    [GEN_AI.requestModel]: event.model,
    [GEN_AI.providerName]: event.model === model.name ? model.provider : undefined,
    [GEN_AI.agentName]: event.agent,
    [GEN_AI.conversationId]: event.threadId,
    [CONCLAVE.runId]: event.runId,
    [CONCLAVE.node]: event.node,
    [CONCLAVE.round]: event.round,
    [CONCLAVE.task]: event.task,
    [CONCLAVE.messageCount]: event.messageCount,
  });
}

export function chatEndAttributes(event: EventOf<"llm-call-end">): Attributes {
  return defined({
    [GEN_AI.responseModel]: event.error ? undefined : event.model,
    [GEN_AI.inputTokens]: event.usage.inputTokens,
    [GEN_AI.outputTokens]: event.usage.outputTokens,
    [CONCLAVE.costUsd]: event.costUsd,
    [CONCLAVE.cached]: event.cached === true,
    [CONCLAVE.savedCostUsd]: event.savedCostUsd,
    [CONCLAVE.answeredBy]: event.answeredBy,
    [CONCLAVE.toolCalls]: event.toolCalls.length,
  });
}

export function toolStartAttributes(event: EventOf<"tool-call-start">): Attributes {
  return defined({
    [GEN_AI.operationName]: GEN_AI_OPERATION.executeTool,
    [GEN_AI.toolName]: event.tool,
    [GEN_AI.toolCallId]: event.callId || undefined,
    [GEN_AI.agentName]: event.agent,
    [CONCLAVE.runId]: event.runId,
    [CONCLAVE.node]: event.node,
    [CONCLAVE.round]: event.round,
    [CONCLAVE.task]: event.task,
  });
}

export function toolEndAttributes(event: EventOf<"tool-call-end">): Attributes {
  return defined({
    [CONCLAVE.outputChars]: event.outputChars,
    [CONCLAVE.sideEffects]: event.sideEffects,
    [CONCLAVE.deduplicated]: event.deduplicated,
    [CONCLAVE.replayed]: event.replayed,
  });
}

/**
 * An event that opens no span (retry, fallback, breaker, decision, approval…) as span-event
 * attributes: its scalar fields, and an error's message. Arguments and edits are left out.
 */
export function annotationAttributes(event: ConclaveEvent): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === "runId" || key === "threadId" || key === "at" || key === "type") continue;
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") attributes[`conclave.${key}`] = value;
    else if (key === "error" && value && typeof value === "object") attributes["conclave.error"] = String((value as { message?: unknown }).message);
  }
  return attributes;
}

function defined(values: Record<string, AttributeValue | undefined>): Attributes {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Attributes;
}
