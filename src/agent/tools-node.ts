import { AIMessage, ToolMessage } from "@langchain/core/messages";
import type { BaseMessage, InvalidToolCall, ToolCall } from "@langchain/core/messages";
import { ToolInputParsingException } from "@langchain/core/tools";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { isGraphInterrupt } from "@langchain/langgraph";
import type { AnyTool } from "../tool/define-tool.ts";
import { whereOf } from "../models/observe.ts";
import { runContext } from "../runtime/context.ts";

/** Ids of the tool calls the model made with arguments that were not valid JSON (see `repairInvalidToolCalls`). */
const INVALID_CALLS_KEY = "conclave_invalid_tool_calls";

/**
 * Chat Completions providers answer unparseable tool-call arguments with `invalid_tool_calls`,
 * which a plain loop would treat as "no tool calls" and stop silently. We keep such calls as
 * tool calls with empty arguments (so the conversation sent back stays valid: every call gets its
 * answer) and remember them, so the tools node answers each with an error the model can fix.
 */
export function repairInvalidToolCalls(message: AIMessage): AIMessage {
  const invalid = message.invalid_tool_calls ?? [];
  if (invalid.length === 0) return message;
  const repaired: ToolCall[] = invalid.map((call, index) => ({ type: "tool_call", id: call.id ?? `invalid_call_${index}`, name: call.name ?? "unknown_tool", args: {} }));
  return new AIMessage({
    content: message.content,
    id: message.id,
    tool_calls: [...(message.tool_calls ?? []), ...repaired],
    invalid_tool_calls: [],
    usage_metadata: message.usage_metadata,
    response_metadata: message.response_metadata,
    additional_kwargs: { ...withoutRawToolCalls(message.additional_kwargs), [INVALID_CALLS_KEY]: invalid.map((call, index) => ({ ...call, id: repaired[index]!.id })) },
  });
}

function withoutRawToolCalls(kwargs: Record<string, unknown>): Record<string, unknown> {
  const { tool_calls: _raw, ...rest } = kwargs;
  return rest;
}

function invalidCallsOf(message: AIMessage): Map<string, InvalidToolCall> {
  const list = (message.additional_kwargs?.[INVALID_CALLS_KEY] ?? []) as InvalidToolCall[];
  return new Map(list.map((call) => [call.id ?? "", call]));
}

/**
 * Runs the tool calls of the last AI message, in parallel, and returns one ToolMessage per call,
 * paired by id. Nothing a tool or the model does wrong escapes as an exception: unknown tools,
 * arguments that fail the schema, invalid JSON, thrown errors and timeouts all become error
 * observations that say how to fix the call. Interrupts (human-in-the-loop) still propagate.
 */
export async function runToolCalls(messages: BaseMessage[], tools: readonly AnyTool[], config?: LangGraphRunnableConfig): Promise<ToolMessage[]> {
  const last = [...messages].reverse().find((message) => AIMessage.isInstance(message));
  if (!last || !AIMessage.isInstance(last)) return [];
  const invalid = invalidCallsOf(last);
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  return Promise.all((last.tool_calls ?? []).map((call) => runOne(call, byName, invalid.get(call.id ?? ""), config)));
}

async function runOne(call: ToolCall, tools: Map<string, AnyTool>, invalid: InvalidToolCall | undefined, config?: LangGraphRunnableConfig): Promise<ToolMessage> {
  const events = runContext(config).events;
  const callId = call.id ?? "";
  const where = whereOf(config);
  const startedAt = Date.now();
  events?.emit({ type: "tool-call-start", callId, tool: call.name, args: invalid ? invalid.args : call.args, ...where });

  let content: string;
  let error: string | undefined;
  const tool = tools.get(call.name);
  if (invalid) {
    error = `the arguments were not valid JSON (${invalid.error ?? "parse error"}): ${invalid.args ?? ""}`;
    content = `Error: the arguments you gave to "${call.name}" were not valid JSON (${invalid.error ?? "parse error"}). You sent: ${invalid.args ?? ""}\nCall "${call.name}" again with a JSON object that matches its schema.`;
  } else if (!tool) {
    const names = [...tools.keys()];
    error = `there is no tool named "${call.name}"`;
    content = `Error: there is no tool named "${call.name}". ${names.length ? `Available tools: ${names.join(", ")}. Call one of them by its exact name, or answer without tools.` : "No tools are available: answer directly."}`;
  } else {
    try {
      const output: unknown = await tool.invoke({ ...call, type: "tool_call" }, config);
      // Hosted APIs reject empty tool messages, and an empty observation teaches the model nothing.
      content = (ToolMessage.isInstance(output) ? textOf(output.content) : textOf(output)) || `(tool "${call.name}" returned no output)`;
    } catch (caught) {
      if (isGraphInterrupt(caught)) throw caught;
      error = caught instanceof Error ? caught.message : String(caught);
      content = caught instanceof ToolInputParsingException
        ? `Error: the arguments for "${call.name}" do not match its schema.\n${caught.message}\nFix the arguments and call "${call.name}" again.`
        : `Error: tool "${call.name}" failed: ${error}`;
    }
  }
  events?.emit({ type: "tool-call-end", callId, tool: call.name, latencyMs: Date.now() - startedAt, outputChars: content.length, output: content.slice(0, 500), ...(error ? { error } : {}), ...where });
  return new ToolMessage({ content, tool_call_id: callId, name: call.name, status: error ? "error" : "success" });
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map((part) => (typeof part === "object" && part && "text" in part ? String(part.text) : typeof part === "string" ? part : JSON.stringify(part))).join("");
  return JSON.stringify(value ?? null);
}
