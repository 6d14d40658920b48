/**
 * The request rules the hosted OpenAI Chat Completions API enforces with a 400, checked locally so
 * that tests against the fake server fail the same way production would instead of passing silently.
 *
 * @module
 */

const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_CHOICE_MODES = new Set(["none", "auto", "required"]);

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

/**
 * Whether message content counts as non-empty. Text parts must carry text; `allowMedia` admits the
 * non-text parts (images, audio, files, refusals) that only some roles may send.
 */
function hasContent(content: unknown, allowMedia: boolean): boolean {
  if (typeof content === "string") return content.length > 0;
  if (!Array.isArray(content) || content.length === 0) return false;
  return content.every((part) => {
    if (!isObject(part)) return false;
    if (part.type === "text") return isNonEmptyString(part.text);
    if (part.type === "refusal") return allowMedia && isNonEmptyString(part.refusal);
    return allowMedia && typeof part.type === "string";
  });
}

function checkToolCalls(where: string, toolCalls: unknown, seenIds: Set<string>, out: string[]): string[] {
  if (!Array.isArray(toolCalls)) {
    out.push(`${where}: tool_calls must be an array`);
    return [];
  }
  if (toolCalls.length === 0) out.push(`${where}: tool_calls must not be an empty array`);
  const ids: string[] = [];
  toolCalls.forEach((call, i) => {
    const at = `${where}.tool_calls[${i}]`;
    if (!isObject(call)) return void out.push(`${at}: must be an object`);
    if (!isNonEmptyString(call.id)) out.push(`${at}: id must be a non-empty string`);
    else if (seenIds.has(call.id)) out.push(`${at}: duplicate tool call id ${call.id}`);
    else {
      seenIds.add(call.id);
      ids.push(call.id);
    }
    if (call.type !== "function") out.push(`${at}: type must be "function"`);
    const fn = call.function;
    if (!isObject(fn)) return void out.push(`${at}: function must be an object`);
    if (!isNonEmptyString(fn.name)) out.push(`${at}: function.name must be a non-empty string`);
    if (typeof fn.arguments !== "string") out.push(`${at}: function.arguments must be a string`);
  });
  return ids;
}

/** Checks one message on its own and returns the tool call ids it opens, if any. */
function checkMessage(message: unknown, i: number, seenIds: Set<string>, out: string[]): string[] {
  if (!isObject(message)) {
    out.push(`messages[${i}]: must be an object`);
    return [];
  }
  const role = message.role;
  if (typeof role !== "string" || !ROLES.has(role)) {
    out.push(`messages[${i}]: invalid role ${JSON.stringify(role)}`);
    return [];
  }
  const where = `messages[${i}] (${role})`;
  if (role === "assistant") {
    const hasCalls = message.tool_calls !== undefined && message.tool_calls !== null;
    const ids = hasCalls ? checkToolCalls(where, message.tool_calls, seenIds, out) : [];
    if (!hasCalls && !hasContent(message.content, true)) {
      out.push(`${where}: must have non-empty content or at least one tool call`);
    }
    return ids;
  }
  if (!hasContent(message.content, role === "user")) out.push(`${where}: content must not be empty`);
  return [];
}

/**
 * Enforces the ordering rule: an assistant turn with tool calls must be followed directly by tool
 * messages answering every one of its ids, and tool messages may only answer that turn.
 */
class ToolTurnTracker {
  private turn: { index: number; ids: Set<string>; open: Set<string> } | undefined;

  constructor(private readonly out: string[]) {}

  tool(message: Obj, i: number): void {
    const id = message.tool_call_id;
    const where = `messages[${i}] (tool)`;
    if (!isNonEmptyString(id)) return void this.out.push(`${where}: tool_call_id must be a non-empty string`);
    if (!this.turn?.ids.has(id)) return void this.out.push(`${where}: tool message answers unknown tool_call_id ${id}`);
    if (!this.turn.open.delete(id)) this.out.push(`${where}: tool_call_id ${id} is answered more than once`);
  }

  /** Any non-tool message ends the current tool turn; `ids` opens a new one. */
  other(i: number | undefined, ids: string[] = []): void {
    if (this.turn && this.turn.open.size > 0) {
      const missing = [...this.turn.open].join(", ");
      const before = i === undefined ? "the end of the conversation" : `messages[${i}]`;
      this.out.push(
        `messages[${this.turn.index}] (assistant): tool_calls must be answered by tool messages before ${before}; missing tool_call_id ${missing}`,
      );
    }
    this.turn = ids.length > 0 && i !== undefined ? { index: i, ids: new Set(ids), open: new Set(ids) } : undefined;
  }
}

function checkMessages(messages: unknown, out: string[]): void {
  if (!Array.isArray(messages) || messages.length === 0) {
    out.push("messages must be a non-empty array");
    return;
  }
  const seenIds = new Set<string>();
  const tracker = new ToolTurnTracker(out);
  messages.forEach((message, i) => {
    const ids = checkMessage(message, i, seenIds, out);
    if (isObject(message) && message.role === "tool") tracker.tool(message, i);
    else tracker.other(i, ids);
  });
  tracker.other(undefined);
}

/** Returns the declared tool names, so `tool_choice` can be checked against them. */
function checkTools(tools: unknown, out: string[]): Set<string> {
  const names = new Set<string>();
  if (tools === undefined) return names;
  if (!Array.isArray(tools) || tools.length === 0) {
    out.push("tools must be a non-empty array when present");
    return names;
  }
  tools.forEach((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool) || tool.type !== "function") return void out.push(`${at}: type must be "function"`);
    const fn = tool.function;
    if (!isObject(fn)) return void out.push(`${at}: function must be an object`);
    if (typeof fn.name !== "string" || !TOOL_NAME.test(fn.name)) {
      out.push(`${at}: function.name ${JSON.stringify(fn.name)} must match ${TOOL_NAME}`);
    } else if (names.has(fn.name)) {
      out.push(`${at}: duplicate tool name ${fn.name}`);
    } else {
      names.add(fn.name);
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters)) out.push(`${at}: function.parameters must be an object`);
  });
  return names;
}

function checkToolChoice(body: Obj, toolNames: Set<string>, out: string[]): void {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return;
  if (typeof choice === "string") {
    if (!TOOL_CHOICE_MODES.has(choice)) out.push(`tool_choice ${JSON.stringify(choice)} is not one of none, auto, required`);
    return;
  }
  const name = isObject(choice) && isObject(choice.function) ? choice.function.name : undefined;
  if (typeof name !== "string" || !toolNames.has(name)) {
    out.push(`tool_choice names function ${JSON.stringify(name)} which is not in tools`);
  }
}

/**
 * Checks a Chat Completions request body against the rules the hosted API enforces with a 400:
 * model and messages present, valid roles, no empty messages, well-formed tool calls with unique
 * ids, every assistant tool call answered by tool messages immediately after it, valid and unique
 * tool names, and a `tool_choice` that names a declared tool.
 *
 * @param body The parsed JSON request body.
 * @returns Human-readable violations; empty when the request is valid.
 */
export function validateChatRequest(body: unknown): string[] {
  const out: string[] = [];
  if (!isObject(body)) return ["request body must be a JSON object"];
  if (!isNonEmptyString(body.model)) out.push("model must be a non-empty string");
  checkMessages(body.messages, out);
  const toolNames = checkTools(body.tools, out);
  checkToolChoice(body, toolNames, out);
  if (body.stream_options != null && body.stream !== true) out.push("stream_options is only allowed when stream is true");
  return out;
}
