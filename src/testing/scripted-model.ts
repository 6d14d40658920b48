import { AIMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeBuiltModel } from "@langchain/core/testing";
import { toJsonSchema } from "@langchain/core/utils/json_schema";

/** One request the scripted model received, flattened for readable assertions. */
export interface RecordedMessage {
  role: "system" | "user" | "assistant" | "tool" | string;
  content: string;
  toolCalls?: Array<{ id: string | undefined; name: string; args: Record<string, unknown> }>;
  toolCallId?: string;
  status?: string;
}

/**
 * A scripted chat model for deterministic tests: LangChain's `fakeModel()` (queue replies, tool
 * calls and errors; record every call) with shorthands and a flattened view of what was sent,
 * so a test can assert the requests as well as the answer.
 *
 * @example
 * const model = scriptedModel().callTools([{ name: "add", args: { a: 1, b: 2 } }]).reply("3");
 * await run(graph, input, { model });
 * expect(model.requests[1]).toContainEqual(expect.objectContaining({ role: "tool", content: "3" }));
 */
export class ScriptedChatModel extends FakeBuiltModel {
  /** Queues a plain text answer. */
  reply(content: string): this {
    return this.respond(new AIMessage({ content, usage_metadata: usageFor(content) }));
  }

  /** Queues an answer that calls tools, with empty text as providers send it (ids are generated when omitted). */
  callTools(calls: Array<{ name: string; args: Record<string, unknown>; id?: string }>): this {
    // fakeModel().respondWithTools would fill the text with every input message joined, which grows each step.
    return this.respond(new AIMessage({ content: "", tool_calls: calls.map((call) => ({ type: "tool_call" as const, name: call.name, args: call.args, id: call.id ?? `call_scripted_${++callCounter}` })) }));
  }

  /**
   * Queues a structured answer: the forced tool call `withStructuredOutput` asks for (named
   * `final_answer` by Conclave agents), as a provider would send it.
   */
  answer(args: Record<string, unknown>, name = "final_answer"): this {
    return this.callTools([{ name, args }]);
  }

  /**
   * Structured output the way providers do it — a forced tool call, consumed from the queue and
   * recorded like any request — rather than fakeModel's fixed value, so tests script and assert
   * structured answers in order (see `answer()`).
   */
  override withStructuredOutput(schema: unknown, config?: { name?: string; includeRaw?: boolean }): never {
    const name = config?.name ?? "extract";
    const bound = this.bindTools([{ name, description: "Structured answer", schema: toJsonSchema(schema as Parameters<typeof toJsonSchema>[0]) as Record<string, unknown> }]);
    return RunnableLambda.from(async (input: BaseLanguageModelInput, runConfig) => {
      const raw = (await bound.invoke(input, runConfig)) as AIMessage;
      const parsed = raw.tool_calls?.find((call) => call.name === name)?.args;
      return config?.includeRaw ? { raw, parsed } : parsed;
    }) as never;
  }

  /** Queues an error thrown by the next call. */
  fail(error: Error): this {
    return this.respond(error);
  }

  /** Every request received so far, each as its list of flattened messages. */
  get requests(): RecordedMessage[][] {
    return this.calls.map((call) => call.messages.map(flatten));
  }
}

let callCounter = 0;

/** Creates a `ScriptedChatModel`. */
export function scriptedModel(): ScriptedChatModel {
  return new ScriptedChatModel();
}

function flatten(message: BaseMessage): RecordedMessage {
  const type = message.getType();
  const role = type === "human" ? "user" : type === "ai" ? "assistant" : type;
  const out: RecordedMessage = { role, content: message.text };
  if (AIMessage.isInstance(message) && message.tool_calls?.length) {
    out.toolCalls = message.tool_calls.map((call) => ({ id: call.id, name: call.name, args: call.args }));
  }
  const tool = message as { tool_call_id?: string; status?: string };
  if (type === "tool") {
    if (tool.tool_call_id !== undefined) out.toolCallId = tool.tool_call_id;
    if (tool.status !== undefined) out.status = tool.status;
  }
  return out;
}

function usageFor(content: string) {
  const output = Math.max(1, Math.ceil(content.length / 4));
  return { input_tokens: 0, output_tokens: output, total_tokens: output };
}
