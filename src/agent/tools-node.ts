import { AIMessage, ToolMessage } from "@langchain/core/messages";
import type { BaseMessage, InvalidToolCall, ToolCall } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import type { AnyTool } from "../tool/define-tool.ts";
import { whereOf } from "../models/observe.ts";
import { runContext } from "../runtime/context.ts";
import { TOOL_CALL_INDEX_KEY } from "../tool/effect-call.ts";

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
  // Some local servers send tool calls without ids; every answer must name the call it answers.
  if (message.tool_calls?.some((call) => !call.id)) {
    message.tool_calls = message.tool_calls.map((call, index) => (call.id ? call : { ...call, id: `call_${index}_${Math.random().toString(36).slice(2, 10)}` }));
  }
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
 * paired by id. Each call goes through LangGraph's `ToolNode` (which passes tools their runtime,
 * turns their errors into error observations and lets interrupts through); what ToolNode cannot
 * know — unknown tool names with the list of real ones, unparseable JSON arguments — is answered
 * here, and every call reports `tool-call-start` / `tool-call-end` to the run.
 */
export async function runToolCalls(messages: BaseMessage[], tools: readonly AnyTool[], config?: LangGraphRunnableConfig): Promise<ToolMessage[]> {
  const last = messages.findLast((message) => AIMessage.isInstance(message));
  if (!last || !AIMessage.isInstance(last)) return [];
  const invalid = invalidCallsOf(last);
  const names = tools.map((tool) => tool.name);
  const toolNode = new ToolNode([...tools], { handleToolErrors: true });
  // Each call learns its index among the task's calls: with the task's path it keys side effects.
  const one = (call: ToolCall, index: number) => runOne(call, toolNode, names, invalid.get(call.id ?? ""), messages, config && { ...config, metadata: { ...config.metadata, [TOOL_CALL_INDEX_KEY]: index } });
  const calls = last.tool_calls ?? [];
  // LangGraph matches resume values to interrupts by the order they are raised in a task, so
  // calls that may ask for approval run one after another, in the model's order.
  const asks = calls.some((call) => (tools.find((tool) => tool.name === call.name) as { metadata?: Record<string, unknown> } | undefined)?.metadata?.conclave_requires_approval === true);
  if (!asks) return Promise.all(calls.map(one));
  const results: ToolMessage[] = [];
  for (const [index, call] of calls.entries()) results.push(await one(call, index));
  return results;
}

async function runOne(call: ToolCall, toolNode: ToolNode, names: string[], invalid: InvalidToolCall | undefined, messages: BaseMessage[], config?: LangGraphRunnableConfig): Promise<ToolMessage> {
  const context = runContext(config);
  const events = context.events;
  const callId = call.id ?? "";
  const where = whereOf(config);
  const startedAt = Date.now();
  events?.emit({ type: "tool-call-start", callId, tool: call.name, args: invalid ? invalid.args : call.args, ...where });
  let replayed = false;

  let message: ToolMessage;
  if (invalid) {
    message = errorMessage(call, `Error: the arguments you gave to "${call.name}" were not valid JSON (${invalid.error ?? "parse error"}). You sent: ${invalid.args ?? ""}\nCall "${call.name}" again with a JSON object that matches its schema.`);
  } else if (!names.includes(call.name)) {
    message = errorMessage(call, `Error: there is no tool named "${call.name}". ${names.length ? `Available tools: ${names.join(", ")}. Call one of them by its exact name, or answer without tools.` : "No tools are available: answer directly."}`);
  } else {
    const invoke = async () => {
      const output = (await toolNode.invoke({ lg_tool_call: { ...call, type: "tool_call" }, messages }, config)) as { messages: ToolMessage[] };
      const first = output.messages[0]!;
      return { content: first.text, status: first.status === "error" ? ("error" as const) : ("success" as const) };
    };
    // A replayed run answers tools from the cassette: no files, no network, the recorded observation.
    const cassette = context.cassette;
    const result = cassette ? await cassette.tool({ tool: call.name, args: call.args, ...pick(where) }, invoke) : await invoke();
    replayed = cassette?.mode === "replay";
    // Hosted APIs reject empty tool messages, and an empty observation teaches the model nothing.
    message = new ToolMessage({ content: result.content || `(tool "${call.name}" returned no output)`, tool_call_id: callId, name: call.name, status: result.status });
  }
  const failed = message.status === "error";
  const text = message.text;
  const report = context.toolReports?.get(callId);
  context.toolReports?.delete(callId);
  events?.emit({ type: "tool-call-end", callId, tool: call.name, latencyMs: Date.now() - startedAt, outputChars: text.length, output: text.slice(0, 500), ...(failed ? { error: text.replace(/^Error:\s*/, "").split("\n")[0]! } : {}), ...where, ...report, ...(replayed ? { replayed } : {}) });
  return message;
}

function pick(where: { agent?: string; node?: string }): { agent?: string; node?: string } {
  return { ...(where.agent ? { agent: where.agent } : {}), ...(where.node ? { node: where.node } : {}) };
}

function errorMessage(call: ToolCall, content: string): ToolMessage {
  return new ToolMessage({ content, tool_call_id: call.id ?? "", name: call.name, status: "error" });
}
