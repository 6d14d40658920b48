import type { BaseLanguageModelInput, StructuredOutputMethodOptions } from "@langchain/core/language_models/base";
import type { InteropZodType } from "@langchain/core/utils/types";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseChatModelCallOptions, BindToolsInput } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { BaseMessage, ToolCall } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { RunnableLambda } from "@langchain/core/runnables";
import type { Runnable } from "@langchain/core/runnables";
import { convertToOpenAITool } from "@langchain/core/utils/function_calling";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { composeAnswer, fillSchema } from "./compose.ts";
import { collectEvidence } from "./evidence.ts";
import { estimateTokens } from "./text.ts";
import type { JsonSchema, ToolSpec } from "./tool-choice.ts";
import { chooseToolCalls } from "./tool-choice.ts";

/* eslint-disable @typescript-eslint/no-explicit-any -- the overloads mirror BaseChatModel's */

/** The name every result and banner shows for the embedded model. */
export const OFFLINE_MODEL_NAME = "conclave-offline";

export interface OfflineCallOptions extends BaseChatModelCallOptions {
  tools?: ToolSpec[];
  /** A tool name forces that call (structured output); `"none"` forbids tool calls. */
  tool_choice?: string;
}

/**
 * Conclave's embedded default model: deterministic, no network, no weights — and labelled
 * "offline" wherever it is used. It has no knowledge of its own. With tools bound and a fresh
 * request it calls the tools whose name, description and schema fit the request (an arithmetic
 * expression → a calculator; a file path → a file reader; otherwise the best-fitting lookup tool,
 * with the request as query). After observations it answers extractively: the most relevant
 * sentences, each with the `[source]` its passage was marked with, numbers quoted exactly. Asked
 * for structured output it fills the schema from the same evidence. It never looks at agent names
 * or prompt wording beyond the request's own terms.
 */
export class OfflineChatModel extends BaseChatModel<OfflineCallOptions> {
  static override lc_name(): string {
    return "OfflineChatModel";
  }

  readonly model: string = OFFLINE_MODEL_NAME;

  _llmType(): string {
    return OFFLINE_MODEL_NAME;
  }

  override getLsParams(options: this["ParsedCallOptions"]) {
    return { ...super.getLsParams(options), ls_provider: "offline", ls_model_name: OFFLINE_MODEL_NAME };
  }

  override bindTools(tools: BindToolsInput[], kwargs?: Partial<OfflineCallOptions>): Runnable<BaseLanguageModelInput, AIMessageChunk, OfflineCallOptions> {
    return this.withConfig({ ...kwargs, tools: tools.map(toSpec), ...(kwargs?.tool_choice ? { tool_choice: choiceName(kwargs.tool_choice) } : {}) });
  }

  /** Structured output as a forced tool call, parsed back into the tool's arguments. */
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(schema: InteropZodType<RunOutput> | Record<string, any>, config?: StructuredOutputMethodOptions<false>): Runnable<BaseLanguageModelInput, RunOutput>;
  override withStructuredOutput<RunOutput extends Record<string, any> = Record<string, any>>(schema: InteropZodType<RunOutput> | Record<string, any>, config?: StructuredOutputMethodOptions<true>): Runnable<BaseLanguageModelInput, { raw: BaseMessage; parsed: RunOutput }>;
  override withStructuredOutput(schema: unknown, config?: StructuredOutputMethodOptions<boolean>): Runnable<BaseLanguageModelInput, unknown> {
    const name = config?.name ?? "extract";
    const parameters = toJsonSchema(schema as Parameters<typeof toJsonSchema>[0]) as JsonSchema;
    const bound = this.withConfig({ tools: [{ name, description: "Structured answer", parameters }], tool_choice: name });
    return RunnableLambda.from(async (input: BaseLanguageModelInput, runConfig) => {
      const raw = (await bound.invoke(input, runConfig)) as AIMessage;
      const parsed = raw.tool_calls?.find((call) => call.name === name)?.args;
      return config?.includeRaw ? { raw, parsed } : parsed;
    });
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const message = this.respond(messages, options.tools ?? [], options.tool_choice);
    const inputTokens = estimateTokens(messages.map((m) => m.text).join("\n"));
    const outputTokens = estimateTokens(message.text + JSON.stringify(message.tool_calls ?? []));
    message.usage_metadata = { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
    message.response_metadata = { model_name: OFFLINE_MODEL_NAME, model_provider: "offline", finish_reason: message.tool_calls?.length ? "tool_calls" : "stop" };
    return { generations: [{ text: message.text, message }] };
  }

  private respond(messages: BaseMessage[], tools: ToolSpec[], toolChoice: string | undefined): AIMessage {
    const lastRequest = messages.findLastIndex((m) => HumanMessage.isInstance(m));
    const ask = requestText(messages[lastRequest]);
    const query = messages.filter((m) => HumanMessage.isInstance(m)).map(requestText).join("\n");
    const evidence = collectEvidence(messages);
    const idFor = (index: number) => `call_offline_${messages.length}_${index}`;

    const forced = toolChoice && toolChoice !== "none" && toolChoice !== "auto" ? tools.find((tool) => tool.name === toolChoice) ?? (toolChoice === "any" || toolChoice === "required" ? tools[0] : undefined) : undefined;
    if (forced) {
      const args = fillSchema(forced.parameters, composeAnswer(query, evidence, toolErrors(messages))) as Record<string, unknown>;
      return new AIMessage({ content: "", tool_calls: [{ type: "tool_call", id: idFor(0), name: forced.name, args }] });
    }
    const observed = messages.slice(lastRequest + 1).some((m) => ToolMessage.isInstance(m));
    if (tools.length && toolChoice !== "none" && !observed && ask.trim()) {
      let index = 0;
      const calls: ToolCall[] = chooseToolCalls(ask, tools, () => idFor(index++));
      if (calls.length) return new AIMessage({ content: "", tool_calls: calls });
    }
    return new AIMessage({ content: composeAnswer(query, evidence, toolErrors(messages.slice(lastRequest + 1))).text });
  }
}

/** The request's own words: the message text without the cited passages pasted into it. */
function requestText(message: BaseMessage | undefined): string {
  return (message?.text ?? "").split(/\r?\n/).filter((line) => !/^\s*\[[^\]]+\]/.test(line)).join("\n");
}

/** The error observations among these messages, so an answer can say why it has no evidence. */
function toolErrors(messages: readonly BaseMessage[]): string[] {
  return messages.filter((message) => ToolMessage.isInstance(message) && (message.status === "error" || message.text.startsWith("Error:"))).map((message) => message.text.replace(/^Error:\s*/, "").split("\n")[0]!);
}

function toSpec(tool: BindToolsInput | ToolSpec): ToolSpec {
  if (typeof tool === "object" && tool !== null && "parameters" in tool && "name" in tool && typeof tool.name === "string" && !("function" in tool)) {
    return tool as ToolSpec;
  }
  const openai = convertToOpenAITool(tool as Parameters<typeof convertToOpenAITool>[0]) as { function: { name: string; description?: string; parameters?: JsonSchema } };
  return { name: openai.function.name, description: openai.function.description ?? "", parameters: openai.function.parameters ?? {} };
}

function choiceName(choice: unknown): string | undefined {
  if (typeof choice === "string") return choice;
  if (typeof choice === "object" && choice !== null) {
    const named = (choice as { function?: { name?: string }; name?: string }).function?.name ?? (choice as { name?: string }).name;
    if (named) return named;
  }
  return undefined;
}
