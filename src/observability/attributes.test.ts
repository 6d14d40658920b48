import * as semconv from "@opentelemetry/semantic-conventions/incubating";
import { describe, expect, it } from "vitest";
import { ERROR_TYPE, GEN_AI, GEN_AI_OPERATION } from "./attributes.ts";

describe("span attribute names", () => {
  it("match the OpenTelemetry GenAI semantic conventions they copy", () => {
    expect(GEN_AI).toEqual({
      operationName: semconv.ATTR_GEN_AI_OPERATION_NAME,
      providerName: semconv.ATTR_GEN_AI_PROVIDER_NAME,
      requestModel: semconv.ATTR_GEN_AI_REQUEST_MODEL,
      responseModel: semconv.ATTR_GEN_AI_RESPONSE_MODEL,
      inputTokens: semconv.ATTR_GEN_AI_USAGE_INPUT_TOKENS,
      outputTokens: semconv.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
      toolName: semconv.ATTR_GEN_AI_TOOL_NAME,
      toolCallId: semconv.ATTR_GEN_AI_TOOL_CALL_ID,
      agentName: semconv.ATTR_GEN_AI_AGENT_NAME,
      conversationId: semconv.ATTR_GEN_AI_CONVERSATION_ID,
    });
    expect(GEN_AI_OPERATION).toEqual({
      chat: semconv.GEN_AI_OPERATION_NAME_VALUE_CHAT,
      executeTool: semconv.GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      invokeAgent: semconv.GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
    });
    expect(ERROR_TYPE).toBe(semconv.ATTR_ERROR_TYPE);
  });
});
