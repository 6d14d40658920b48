import type { ToolCall } from "@langchain/core/messages";
import { findArithmetic, terms } from "./text.ts";

/** A bound tool as the offline model sees it: name, description and JSON Schema of its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: JsonSchema;
}

/** The subset of JSON Schema the offline model reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
}

/** What a request asks for, read from its wording and the tools on offer (never from agent names). */
type Intent = "arithmetic" | "file" | "lookup";

const INTENT_WORDS: Record<Intent, string[]> = {
  arithmetic: ["calcul", "arithmetic", "math", "expression", "evaluat", "comput", "numer"],
  file: ["file", "read", "path"],
  lookup: ["search", "retriev", "look", "find", "query", "document", "corpus", "knowledge", "passage", "evidence", "source", "support"],
};

const FILE_PATH = /(?:^|\s)((?:\.{0,2}\/)?[\w.-]+(?:\/[\w.-]+)*\.(?:md|txt|json|csv|ts|js|yaml|yml|html|xml))\b/i;

/**
 * Picks the tool calls for a fresh request: an arithmetic expression goes to a tool that describes
 * itself as a calculator; a file path to a file reader; anything else to the tool whose text best
 * fits the request (a search or retrieval tool wins ties), with the request as its query.
 */
export function chooseToolCalls(request: string, tools: readonly ToolSpec[], nextId: () => string): ToolCall[] {
  const expression = findArithmetic(request);
  const path = FILE_PATH.exec(request)?.[1];
  const wanted: Array<[Intent, string]> = [];
  if (expression) wanted.push(["arithmetic", expression]);
  else if (path) wanted.push(["file", path]);
  else wanted.push(["lookup", request.trim()]);

  const calls: ToolCall[] = [];
  for (const [intent, value] of wanted) {
    const tool = bestTool(intent, request, tools);
    if (tool) calls.push({ type: "tool_call", id: nextId(), name: tool.name, args: fillArguments(tool.parameters, value) });
  }
  return calls;
}

function bestTool(intent: Intent, request: string, tools: readonly ToolSpec[]): ToolSpec | undefined {
  const requestTerms = new Set(terms(request));
  let best: { tool: ToolSpec; score: number } | undefined;
  for (const tool of tools) {
    if (!firstStringParameter(tool.parameters)) continue;
    const text = `${tool.name} ${tool.description} ${Object.entries(tool.parameters.properties ?? {}).map(([key, value]) => `${key} ${value.description ?? ""}`).join(" ")}`.toLowerCase();
    const intentScore = INTENT_WORDS[intent].filter((word) => text.includes(word)).length;
    const overlap = terms(text).filter((term) => requestTerms.has(term)).length;
    // An arithmetic or file request needs a tool made for it; a lookup takes the best fit.
    if (intent !== "lookup" && intentScore === 0) continue;
    const score = intentScore * 2 + overlap;
    if (score > 0 && (!best || score > best.score)) best = { tool, score };
  }
  return best?.tool;
}

const PRIMARY_NAMES = /^(query|q|question|text|input|expression|expr|path|file|filename|claim|statement|topic|search|prompt)$/i;

/** Fills a tool's arguments: the main string parameter gets `value`; other required ones get defaults. */
export function fillArguments(schema: JsonSchema, value: string): Record<string, unknown> {
  const properties = schema.properties ?? {};
  const primary = Object.keys(properties).find((key) => PRIMARY_NAMES.test(key) && typeOf(properties[key]!) === "string") ?? firstStringParameter(schema);
  const args: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) {
    if (key === primary) args[key] = value;
    else if (schema.required?.includes(key)) args[key] = defaultFor(property, value);
  }
  return args;
}

function firstStringParameter(schema: JsonSchema): string | undefined {
  return Object.entries(schema.properties ?? {}).find(([, property]) => typeOf(property) === "string" && !property.enum)?.[0];
}

function defaultFor(property: JsonSchema, value: string): unknown {
  if (property.default !== undefined) return property.default;
  if (property.enum?.length) return property.enum[0];
  switch (typeOf(property)) {
    case "number":
    case "integer":
      return Math.min(Math.max(3, property.minimum ?? Number.NEGATIVE_INFINITY), property.maximum ?? Number.POSITIVE_INFINITY);
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return {};
    default:
      return value;
  }
}

/** The JSON type of a schema node, looking through `anyOf` (how optional and nullable fields appear). */
export function typeOf(schema: JsonSchema): string | undefined {
  if (typeof schema.type === "string") return schema.type;
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== "null");
  return schema.anyOf?.map(typeOf).find((type) => type !== undefined && type !== "null");
}
