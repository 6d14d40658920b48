import { createHash } from "node:crypto";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { ConclaveError } from "../../errors.ts";

/** What decides a chat model's answer; every field that can change the answer is part of the key. */
export interface ModelRequestKeyInput {
  /** e.g. "openai-compatible" or "offline"; the same model name at two providers is two models. */
  provider: string;
  model: string;
  /** LangChain messages or plain `{ role, content }` objects; a message and its plain form give the same key. */
  messages: readonly unknown[];
  /** LangChain tools, `{ name, description, schema }` or OpenAI `{ type: "function", function }` definitions. Order counts. */
  tools?: readonly unknown[];
  /** temperature, max tokens, tool_choice, response format, stop, seed… — all of them, as sent. */
  parameters?: Record<string, unknown>;
}

export interface EmbeddingKeyInput {
  provider: string;
  model: string;
  dimensions?: number;
  text: string;
}

/**
 * SHA-256 (hex) of a canonical JSON form of `value`, so equal data hashes equally however it was
 * built: object keys sorted at every depth, `undefined` (and functions) dropped from objects and
 * `null` in arrays as JSON does, zod schemas as their JSON schema, LangChain messages reduced to
 * `{ role, content, tool_calls?, tool_call_id?, name? }` — so `new HumanMessage("x")` and
 * `{ role: "user", content: "x" }` hash the same, being the same request to a provider.
 */
export function canonicalHash(value: unknown): string {
  const text = JSON.stringify(canonical(value, [], [])) ?? "null";
  return createHash("sha256").update(text).digest("hex");
}

/** The cache key of one chat model call: `model:v1:<sha256>`. The version changes whenever the canonical form does. */
export function modelRequestKey(request: ModelRequestKeyInput): string {
  const { provider, model, messages, tools, parameters } = request;
  return `model:v1:${canonicalHash({ provider, model, messages, tools: tools?.map(reduceTool), parameters })}`;
}

/** The cache key of one text's embedding: `embedding:v1:<sha256>`. */
export function embeddingKey(request: EmbeddingKeyInput): string {
  const { provider, model, dimensions, text } = request;
  return `embedding:v1:${canonicalHash({ provider, model, dimensions, text })}`;
}

const ROLES: Record<string, string> = { human: "user", ai: "assistant", system: "system", tool: "tool", function: "function", developer: "developer" };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function canonical(value: unknown, ancestors: object[], path: string[]): Json | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  // JSON would turn NaN and Infinity into null, making them collide with each other and with null.
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value !== "object") return undefined;
  if (ancestors.includes(value)) {
    throw new ConclaveError("CACHE_KEY_INVALID", "system", `Cannot build a cache key: the value refers to itself at ${path.join(".") || "(root)"}. Pass plain request data.`, { details: { path: path.join(".") } });
  }
  ancestors.push(value);
  try {
    return canonicalObject(value, ancestors, path);
  } finally {
    ancestors.pop();
  }
}

function canonicalObject(value: object, ancestors: object[], path: string[]): Json | undefined {
  const at = (child: unknown, key: string) => canonical(child, ancestors, [...path, key]);
  const message = isMessage(value) ? value : serializedMessage(value);
  if (message) return at(reduceMessage(message), "message");
  if (isSchema(value)) return at(toJsonSchema(value as Parameters<typeof toJsonSchema>[0]), "schema");
  if (Array.isArray(value)) return value.map((item, index) => at(item, String(index)) ?? null);
  // Maps and Sets would otherwise serialise as {} and make every one of them the same key.
  if (value instanceof Map) return { $map: sortedByText([...value].map(([key, item], index) => [at(key, `${index}.key`) ?? null, at(item, String(key)) ?? null])) };
  if (value instanceof Set) return { $set: sortedByText([...value].map((item, index) => at(item, String(index)) ?? null)) };
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return at(toJSON.call(value), "toJSON");
  const result: Record<string, Json> = {};
  for (const key of Object.keys(value).sort()) {
    const child = at((value as Record<string, unknown>)[key], key);
    if (child !== undefined) result[key] = child;
  }
  return result;
}

function sortedByText(items: Json[]): Json[] {
  return items.map((item) => [JSON.stringify(item), item] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, item]) => item);
}

interface MessageLike {
  content: unknown;
  getType?: () => string;
  _getType?: () => string;
  role?: unknown;
  name?: unknown;
  tool_calls?: unknown;
  tool_call_id?: unknown;
}

/** A LangChain message instance (any version or module copy): it carries content and says its type. */
function isMessage(value: object): value is MessageLike {
  const candidate = value as Partial<MessageLike>;
  return "content" in value && (typeof candidate.getType === "function" || typeof candidate._getType === "function");
}

/**
 * A message as `JSON.stringify` leaves it (`{ lc: 1, type: "constructor", id: [..., "HumanMessage"], kwargs }`),
 * e.g. read back from a checkpoint: the same message, so the same key as the instance.
 */
function serializedMessage(value: object): MessageLike | undefined {
  const { lc, type, id, kwargs } = value as { lc?: unknown; type?: unknown; id?: unknown; kwargs?: unknown };
  const className = Array.isArray(id) ? id.at(-1) : undefined;
  if (lc !== 1 || type !== "constructor" || typeof className !== "string" || typeof kwargs !== "object" || kwargs === null) return undefined;
  const kind = /^(Human|AI|System|Tool|Function|Chat)Message(Chunk)?$/.exec(className)?.[1];
  if (kind === undefined || !("content" in kwargs)) return undefined;
  const messageType = kind === "Chat" ? "generic" : kind.toLowerCase();
  return { ...(kwargs as MessageLike), getType: () => messageType };
}

/** The provider-facing part of a message; ids, metadata and usage do not change what the model is asked. */
function reduceMessage(message: MessageLike): Record<string, unknown> {
  const type = message.getType?.() ?? message._getType?.() ?? "generic";
  // ChatMessage ("generic") carries its own role.
  const role = type === "generic" && typeof message.role === "string" ? message.role : (ROLES[type] ?? type);
  const calls = Array.isArray(message.tool_calls) && message.tool_calls.length > 0 ? message.tool_calls.map(({ id, name, args }: { id?: unknown; name?: unknown; args?: unknown }) => ({ id, name, args })) : undefined;
  return { role, content: message.content, tool_calls: calls, tool_call_id: message.tool_call_id, name: message.name };
}

/** A zod (v3 or v4) schema, hashed as its JSON schema rather than its internals. */
function isSchema(value: object): boolean {
  return typeof (value as { safeParse?: unknown }).safeParse === "function" && ("_zod" in value || "_def" in value);
}

/** A tool as the model sees it: name, description and parameter schema, whatever form it came in. */
function reduceTool(tool: unknown): unknown {
  if (typeof tool !== "object" || tool === null) return tool;
  const record = tool as Record<string, unknown>;
  const fn = record.type === "function" && typeof record.function === "object" && record.function !== null ? (record.function as Record<string, unknown>) : undefined;
  if (fn) return { name: fn.name, description: fn.description, parameters: fn.parameters, strict: fn.strict };
  if (typeof record.name !== "string") return tool;
  return { name: record.name, description: record.description, parameters: record.schema ?? record.input_schema ?? record.parameters, strict: record.strict };
}
