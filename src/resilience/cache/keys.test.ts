import { AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConclaveError } from "../../errors.ts";
import { canonicalHash, embeddingKey, modelRequestKey } from "./keys.ts";
import type { ModelRequestKeyInput } from "./keys.ts";

const weatherSchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

function request(overrides: Partial<ModelRequestKeyInput> = {}): ModelRequestKeyInput {
  return {
    provider: "openai-compatible",
    model: "gpt-4o-mini",
    messages: [new SystemMessage("Be brief."), new HumanMessage("Weather in Paris?")],
    tools: [{ name: "weather", description: "Current weather for a city.", schema: weatherSchema }],
    parameters: { temperature: 0, max_tokens: 256, tool_choice: "auto" },
    ...overrides,
  };
}

describe("canonicalHash", () => {
  it("is a SHA-256 hex digest that ignores object key order at every depth", () => {
    const a = canonicalHash({ b: 1, a: { y: [1, { q: 2, p: 3 }], x: "s" } });
    const b = canonicalHash({ a: { x: "s", y: [1, { p: 3, q: 2 }] }, b: 1 });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });

  it("drops undefined from objects, but keeps array positions and null", () => {
    expect(canonicalHash({ a: 1, b: undefined })).toBe(canonicalHash({ a: 1 }));
    expect(canonicalHash([1, undefined, 2])).toBe(canonicalHash([1, null, 2]));
    expect(canonicalHash({ a: null })).not.toBe(canonicalHash({}));
    expect(canonicalHash([1, 2])).not.toBe(canonicalHash([2, 1]));
  });

  it("tells apart values JSON would merge", () => {
    expect(canonicalHash(new Map([["a", 1]]))).not.toBe(canonicalHash(new Map([["a", 2]])));
    expect(canonicalHash(new Set([1, 2]))).toBe(canonicalHash(new Set([2, 1])));
    expect(canonicalHash(Number.NaN)).not.toBe(canonicalHash(null));
    expect(canonicalHash(new Date("2024-01-01T00:00:00Z"))).toBe(canonicalHash("2024-01-01T00:00:00.000Z"));
  });

  it("refuses a value that contains itself, but not shared references", () => {
    const shared = { x: 1 };
    expect(() => canonicalHash({ a: shared, b: shared })).not.toThrow();
    const loop: Record<string, unknown> = { a: { b: {} } };
    (loop.a as { b: Record<string, unknown> }).b.c = loop;
    expect(() => canonicalHash(loop)).toThrow(ConclaveError);
    expect(() => canonicalHash(loop)).toThrow(/refers to itself at a\.b\.c/);
  });
});

describe("modelRequestKey", () => {
  it("is stable however the request was built", () => {
    const reordered: ModelRequestKeyInput = {
      parameters: { tool_choice: "auto", max_tokens: 256, temperature: 0 },
      tools: [{ schema: { required: ["city"], properties: { city: { type: "string" } }, type: "object" }, description: "Current weather for a city.", name: "weather" }],
      messages: [new SystemMessage("Be brief."), new HumanMessage("Weather in Paris?")],
      model: "gpt-4o-mini",
      provider: "openai-compatible",
    };
    expect(modelRequestKey(request())).toMatch(/^model:v1:[0-9a-f]{64}$/);
    expect(modelRequestKey(reordered)).toBe(modelRequestKey(request()));
    expect(modelRequestKey(request({ parameters: { temperature: 0, max_tokens: 256, tool_choice: "auto", seed: undefined } }))).toBe(modelRequestKey(request()));
  });

  it("changes with everything that changes the answer", () => {
    const base = modelRequestKey(request());
    const variants: Array<Partial<ModelRequestKeyInput>> = [
      { provider: "offline" },
      { model: "gpt-4o" },
      { messages: [new SystemMessage("Be brief."), new HumanMessage("Weather in Rome?")] },
      { messages: [new HumanMessage("Be brief."), new HumanMessage("Weather in Paris?")] },
      { messages: [new HumanMessage("Weather in Paris?"), new SystemMessage("Be brief.")] },
      { tools: [{ name: "weather", description: "Current weather for a city.", schema: { ...weatherSchema, required: [] } }] },
      { tools: [{ name: "weather", description: "Weather forecast.", schema: weatherSchema }] },
      { tools: undefined },
      { parameters: { temperature: 0.7, max_tokens: 256, tool_choice: "auto" } },
      { parameters: { temperature: 0, max_tokens: 512, tool_choice: "auto" } },
      { parameters: { temperature: 0, max_tokens: 256, tool_choice: "required" } },
      { parameters: { temperature: 0, max_tokens: 256, tool_choice: { type: "function", function: { name: "weather" } } } },
      { parameters: { temperature: 0, max_tokens: 256, tool_choice: "auto", response_format: { type: "json_object" } } },
    ];
    const keys = variants.map((overrides) => modelRequestKey(request(overrides)));
    for (const key of keys) expect(key).not.toBe(base);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("reads tool schemas from zod, LangChain tools and OpenAI definitions alike", () => {
    const schema = z.object({ city: z.string().describe("The city") });
    const weather = tool(async () => "sunny", { name: "weather", description: "Current weather for a city.", schema });
    const asDefinition = { name: "weather", description: "Current weather for a city.", schema };
    const asOpenAI = { type: "function", function: { name: "weather", description: "Current weather for a city.", parameters: z.toJSONSchema(schema) } };
    const key = modelRequestKey(request({ tools: [weather] }));
    expect(modelRequestKey(request({ tools: [asDefinition] }))).toBe(key);
    expect(modelRequestKey(request({ tools: [asOpenAI] }))).toBe(key);
    const otherSchema = z.object({ city: z.string().describe("The city"), days: z.number() });
    expect(modelRequestKey(request({ tools: [{ ...asDefinition, schema: otherSchema }] }))).not.toBe(key);
    expect(modelRequestKey(request({ tools: [{ ...asDefinition, schema: z.object({ city: z.string().describe("A town") }) }] }))).not.toBe(key);
    // A zod response format counts by its JSON schema.
    const withFormat = (format: z.ZodType) => modelRequestKey(request({ parameters: { temperature: 0, response_format: format } }));
    expect(withFormat(z.object({ answer: z.string() }))).toBe(withFormat(z.object({ answer: z.string() })));
    expect(withFormat(z.object({ answer: z.string() }))).not.toBe(withFormat(z.object({ answer: z.number() })));
  });

  it("keys a LangChain message and its plain { role, content } form the same", () => {
    const plain = [{ role: "system", content: "Be brief." }, { role: "user", content: "Weather in Paris?" }];
    expect(modelRequestKey(request({ messages: plain }))).toBe(modelRequestKey(request()));
    const toolTurn = [
      new AIMessage({ content: "", tool_calls: [{ id: "call_1", name: "weather", args: { city: "Paris" } }] }),
      new ToolMessage({ content: "sunny", tool_call_id: "call_1", name: "weather" }),
    ];
    const plainToolTurn = [
      { role: "assistant", content: "", tool_calls: [{ args: { city: "Paris" }, name: "weather", id: "call_1" }] },
      { role: "tool", content: "sunny", tool_call_id: "call_1", name: "weather" },
    ];
    expect(modelRequestKey(request({ messages: toolTurn }))).toBe(modelRequestKey(request({ messages: plainToolTurn })));
    // As JSON.stringify leaves them (e.g. read back from a checkpoint), messages still key the same.
    expect(modelRequestKey(request({ messages: JSON.parse(JSON.stringify(toolTurn)) }))).toBe(modelRequestKey(request({ messages: toolTurn })));
  });

  it("ignores message ids and metadata, but not tool call arguments, names or roles", () => {
    const base = modelRequestKey(request({ messages: [new HumanMessage("x")] }));
    expect(modelRequestKey(request({ messages: [new HumanMessage({ content: "x", id: "msg-1", response_metadata: { a: 1 } })] }))).toBe(base);
    expect(modelRequestKey(request({ messages: [new HumanMessage({ content: "x", name: "alice" })] }))).not.toBe(base);
    expect(modelRequestKey(request({ messages: [new ChatMessage("x", "critic")] }))).not.toBe(base);
    expect(modelRequestKey(request({ messages: [new ChatMessage("x", "user")] }))).toBe(base);
    const call = (city: string) => new AIMessage({ content: "", tool_calls: [{ id: "c", name: "weather", args: { city } }] });
    expect(modelRequestKey(request({ messages: [call("Paris")] }))).not.toBe(modelRequestKey(request({ messages: [call("Rome")] })));
    expect(modelRequestKey(request({ messages: [new AIMessage("x")] }))).not.toBe(base);
  });
});

describe("embeddingKey", () => {
  it("changes with provider, model, dimensions and text only", () => {
    const base = { provider: "openai-compatible", model: "text-embedding-3-small", dimensions: 256, text: "penicillin" };
    const key = embeddingKey(base);
    expect(key).toMatch(/^embedding:v1:[0-9a-f]{64}$/);
    expect(embeddingKey({ text: "penicillin", dimensions: 256, model: "text-embedding-3-small", provider: "openai-compatible" })).toBe(key);
    const others = [{ ...base, provider: "offline" }, { ...base, model: "nomic-embed-text" }, { ...base, dimensions: 512 }, { ...base, text: "Penicillin" }, { ...base, dimensions: undefined }];
    expect(new Set([key, ...others.map(embeddingKey)]).size).toBe(others.length + 1);
    // An embedding key never collides with a model request key of similar fields.
    expect(key.startsWith("embedding:")).toBe(true);
  });
});
