/**
 * Span attribute names. The GenAI ones follow the OpenTelemetry GenAI semantic conventions
 * (semantic-conventions 1.45). They are still "incubating", so they are copied here rather than
 * imported from `@opentelemetry/semantic-conventions/incubating`, as OpenTelemetry advises:
 * a rename upstream then cannot silently change what we export. A test checks they still match.
 */
export const GEN_AI = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  toolName: "gen_ai.tool.name",
  toolCallId: "gen_ai.tool.call.id",
  agentName: "gen_ai.agent.name",
  conversationId: "gen_ai.conversation.id",
} as const;

/** Values of `gen_ai.operation.name`. */
export const GEN_AI_OPERATION = {
  chat: "chat",
  executeTool: "execute_tool",
  invokeAgent: "invoke_agent",
} as const;

/** The stable `error.type` attribute: set on failed spans, as the conventions ask. */
export const ERROR_TYPE = "error.type";

/** Conclave's own attributes, for what the conventions have no name for. */
export const CONCLAVE = {
  runId: "conclave.run_id",
  threadId: "conclave.thread_id",
  graph: "conclave.graph",
  node: "conclave.node",
  step: "conclave.step",
  path: "conclave.path",
  namespace: "conclave.namespace",
  round: "conclave.round",
  task: "conclave.task",
  status: "conclave.status",
  resumed: "conclave.resumed",
  costUsd: "conclave.cost_usd",
  savedCostUsd: "conclave.saved_cost_usd",
  cached: "conclave.cached",
  answeredBy: "conclave.answered_by",
  messageCount: "conclave.message_count",
  toolCalls: "conclave.tool_calls",
  modelCalls: "conclave.model_calls",
  outputChars: "conclave.output_chars",
  sideEffects: "conclave.side_effects",
  deduplicated: "conclave.deduplicated",
  replayed: "conclave.replayed",
  unfinished: "conclave.unfinished",
} as const;
