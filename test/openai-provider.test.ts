import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ProviderError, RunEvents, createAgentGraph, createChatModel, defineAgent, defineTool, run, stream } from "../src/index.ts";
import type { ConclaveEvent, ModelConfig } from "../src/index.ts";
import { unusedPort } from "../src/testing/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

// The real ChatOpenAI client, over HTTP, against a scripted OpenAI-compatible server on 127.0.0.1.
let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});
const agent = defineAgent({ name: "adder", instructions: "Add numbers with the add tool.", tools: [add], maxSteps: 5 });

function modelFor(overrides: Partial<ModelConfig> = {}) {
  return createChatModel({ provider: "openai", name: "fake-model", baseUrl: server.url, apiKey: "test-key", timeoutMs: 5_000, maxRetries: 2, ...overrides });
}

function ask(question: string) {
  return { messages: [new HumanMessage(question)] };
}

function expectValidRequests() {
  for (const request of server.requests) expect(request.violations, `request ${request.index}`).toEqual([]);
}

describe("ChatOpenAI against an OpenAI-compatible server", () => {
  it("sends a plain request and returns the server's answer with its usage", async () => {
    server.enqueue({ kind: "text", content: "Hello from the server", usage: { prompt_tokens: 11, completion_tokens: 4 } });
    const { model, info } = modelFor();
    const result = await run(createAgentGraph(defineAgent({ name: "plain", instructions: "Be brief.", tools: [], maxSteps: 2 })), ask("hi"), { model, modelInfo: info });
    expect(result.state.messages.at(-1)?.text).toBe("Hello from the server");
    expect(result.usage).toMatchObject({ modelCalls: 1, inputTokens: 11, outputTokens: 4, totalTokens: 15 });
    expect(info).toEqual({ provider: "openai-compatible", name: "fake-model", offline: false });
    const [request] = server.requests;
    expect(request!.path).toBe("/v1/chat/completions");
    expect(request!.headers.authorization).toBe("Bearer test-key");
    expect(request!.body.model).toBe("fake-model");
    expect(request!.stream).toBe(false);
    expect(request!.body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi" },
    ]);
  });

  it("runs a ReAct loop: tool call, tool result paired by id, final answer", async () => {
    server.enqueue({ kind: "tool-calls", calls: [{ name: "add", arguments: { a: 17, b: 25 }, id: "call_sum" }] }, { kind: "text", content: "17 + 25 = 42" });
    const { model } = modelFor();
    const result = await run(createAgentGraph(agent), ask("17+25?"), { model });
    expect(result.state.messages.at(-1)?.text).toBe("17 + 25 = 42");
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]!.body.tools.map((tool: { function: { name: string } }) => tool.function.name)).toEqual(["add"]);
    const messages = server.requests[1]!.body.messages;
    expect(messages[2]).toMatchObject({ role: "assistant", tool_calls: [{ id: "call_sum", type: "function", function: { name: "add" } }] });
    expect(JSON.parse(messages[2].tool_calls[0].function.arguments)).toEqual({ a: 17, b: 25 });
    expect(messages[3]).toMatchObject({ role: "tool", tool_call_id: "call_sum", content: "42" });
    expectValidRequests();
  });

  it("streams tool calls and tokens through LangGraph's messages mode", async () => {
    server.enqueue({ kind: "tool-calls", calls: [{ name: "add", arguments: { a: 1, b: 2 }, id: "call_stream" }] }, { kind: "text", content: "The sum is three." });
    const { model } = modelFor();
    const running = stream(createAgentGraph(agent), ask("1+2?"), { model });
    const seen: ConclaveEvent[] = [];
    for await (const event of running) seen.push(event);
    const result = await running.result;
    expect(server.requests.every((request) => request.stream)).toBe(true);
    expect(server.requests[1]!.body.messages[3]).toMatchObject({ role: "tool", tool_call_id: "call_stream", content: "3" });
    const tokens = seen.filter((event) => event.type === "token").map((event) => (event.type === "token" ? event.text : "")).join("");
    expect(tokens).toBe("The sum is three.");
    expect(result.state.messages.at(-1)?.text).toBe("The sum is three.");
    expect(seen.at(-1)?.type).toBe("run-end");
    expectValidRequests();
  });

  it("waits for Retry-After on a 429 before retrying", async () => {
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after": "1" } }, { kind: "text", content: "after the wait" });
    const { model } = modelFor();
    const result = await run(createAgentGraph(defineAgent({ name: "plain", instructions: "x", tools: [], maxSteps: 2 })), ask("hi"), { model });
    expect(result.state.messages.at(-1)?.text).toBe("after the wait");
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("retries a 500 and gives up with a ProviderError once retries are spent", async () => {
    server.enqueue({ kind: "error", status: 500 }, { kind: "text", content: "recovered" });
    const { model } = modelFor({ maxRetries: 1 });
    const plain = createAgentGraph(defineAgent({ name: "plain", instructions: "x", tools: [], maxSteps: 2 }));
    const result = await run(plain, ask("hi"), { model, resilience: { maxRetries: 1, baseDelayMs: 10 } });
    expect(result.state.messages.at(-1)?.text).toBe("recovered");
    expect(server.requests).toHaveLength(2);

    server.setFallback({ kind: "error", status: 500 });
    const events = new RunEvents();
    const ends: ConclaveEvent[] = [];
    events.on("run-end", (event) => ends.push(event));
    const failing = modelFor({ maxRetries: 0 });
    const error = await run(plain, ask("again"), { model: failing.model, events, endpoint: server.url, resilience: { maxRetries: 0 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe("PROVIDER_FAILED");
    expect((error as Error).message).toContain("answered 500");
    expect(server.requests).toHaveLength(3);
    expect(ends).toMatchObject([{ type: "run-end", status: "failed" }]);
  });

  it("times out a hung response and says so", async () => {
    server.enqueue({ kind: "hang" });
    const { model } = modelFor({ timeoutMs: 300, maxRetries: 0 });
    const started = Date.now();
    const error = await run(createAgentGraph(agent), ask("hi"), { model, timeoutMs: 300, endpoint: server.url, resilience: { timeoutMs: 300, maxRetries: 0 } }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe("PROVIDER_TIMEOUT");
    expect((error as Error).message).toContain("did not answer within 300 ms");
  });

  it("feeds malformed tool-call JSON back to the model and recovers", async () => {
    server.enqueue(
      { kind: "tool-calls", calls: [{ name: "add", arguments: '{"a": 4, "b":', id: "call_broken" }] },
      { kind: "tool-calls", calls: [{ name: "add", arguments: { a: 4, b: 5 }, id: "call_fixed" }] },
      { kind: "text", content: "4 + 5 = 9" },
    );
    const { model } = modelFor();
    const result = await run(createAgentGraph(agent), ask("4+5?"), { model });
    expect(result.state.messages.at(-1)?.text).toBe("4 + 5 = 9");
    const second = server.requests[1]!.body.messages;
    expect(second[2].tool_calls.map((call: { id: string }) => call.id)).toEqual(["call_broken"]);
    expect(second[3]).toMatchObject({ role: "tool", tool_call_id: "call_broken" });
    expect(second[3].content).toContain("not valid JSON");
    expect(server.requests[2]!.body.messages[5]).toMatchObject({ role: "tool", tool_call_id: "call_fixed", content: "9" });
    expectValidRequests();
  });

  it("reports an unreachable provider with the address and the fix", async () => {
    const endpoint = `http://127.0.0.1:${await unusedPort()}/v1`;
    const { model } = createChatModel({ provider: "openai", name: "x", baseUrl: endpoint, apiKey: "k", timeoutMs: 2_000, maxRetries: 0 });
    const error = await run(createAgentGraph(agent), ask("hi"), { model, endpoint, resilience: { maxRetries: 0 } }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).code).toBe("PROVIDER_UNREACHABLE");
    expect((error as Error).message).toContain(endpoint);
    expect((error as Error).message).toContain("OPENAI_BASE_URL");
  });
});
