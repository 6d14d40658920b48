const ROLES: Record<string, string> = { human: "user", ai: "assistant", generic: "chat" };

const SUMMARY_LENGTH = 200;

/**
 * A short human summary of a model request for `ModelRequestInfo.summary`: the last message's role
 * and the first 200 characters of its text, e.g. `user: Compare the two papers…`. Works on LangChain
 * messages and on plain `{ role, content }` objects.
 */
export function summarizeRequest(messages: readonly unknown[]): string {
  const last = messages.at(-1);
  if (last === undefined) return "(no messages)";
  return `${roleOf(last)}: ${clip(textOf(last))}`;
}

function roleOf(message: unknown): string {
  if (typeof message !== "object" || message === null) return "message";
  const { getType, _getType, role } = message as { getType?: unknown; _getType?: unknown; role?: unknown };
  const type = typeof getType === "function" ? getType.call(message) : typeof _getType === "function" ? _getType.call(message) : role;
  return typeof type === "string" ? (ROLES[type] ?? type) : "message";
}

function textOf(message: unknown): string {
  if (typeof message === "string") return message;
  if (typeof message !== "object" || message === null) return String(message);
  const { content, tool_calls: calls } = message as { content?: unknown; tool_calls?: unknown };
  const text = contentText(content);
  const names = Array.isArray(calls) ? calls.map((call) => String((call as { name?: unknown }).name)) : [];
  const callText = names.length > 0 ? `[tool calls: ${names.join(", ")}]` : "";
  return [text, callText].filter(Boolean).join(" ");
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return content === undefined ? "" : (JSON.stringify(content) ?? "");
  return content
    .map((part) => {
      if (typeof part === "string") return part;
      const { type, text } = (part ?? {}) as { type?: unknown; text?: unknown };
      return typeof text === "string" ? text : `[${String(type)}]`;
    })
    .join(" ");
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SUMMARY_LENGTH ? `${flat.slice(0, SUMMARY_LENGTH)}…` : flat;
}
