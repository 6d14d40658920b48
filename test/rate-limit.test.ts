import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { RateLimitTimeoutError, RateLimiter, RunEvents, createAgentGraph, createChatModel, defineAgent, run } from "../src/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

const graph = createAgentGraph(defineAgent({ name: "limited", instructions: "Answer.", tools: [], maxSteps: 2 }));
const MODEL_KEY = "model:openai-compatible:fake-model";

function model() {
  return createChatModel({ provider: "openai", name: "fake-model", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 }).model;
}

describe("rate limits on model requests", () => {
  it("waits for room in the model's bucket before sending", async () => {
    const limiter = new RateLimiter({ limits: { "model:*": { requestsPerMinute: 600 } } });
    // As if the provider had said: no requests left for 300 ms.
    limiter.observeHeaders(MODEL_KEY, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "300ms" });
    server.setFallback({ kind: "text", content: "ok" });
    const started = Date.now();
    const result = await run(graph, { messages: [new HumanMessage("hi")] }, { model: model(), rateLimit: { limiter } });
    expect(result.state.messages.at(-1)?.text).toBe("ok");
    expect(server.requests[0]!.at - started).toBeGreaterThanOrEqual(280);
  });

  it("does not count a rate-limit wait against the call's timeout", async () => {
    const limiter = new RateLimiter({ limits: { "model:*": { requestsPerMinute: 600 } } });
    limiter.observeHeaders(MODEL_KEY, { "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "500ms" });
    server.setFallback({ kind: "text", content: "ok" });
    const events = new RunEvents();
    const retries: string[] = [];
    events.on("retry", (event) => retries.push(event.reason));
    const result = await run(graph, { messages: [new HumanMessage("hi")] }, { model: model(), rateLimit: { limiter }, events, resilience: { timeoutMs: 200, baseDelayMs: 10 } });
    expect(result.state.messages.at(-1)?.text).toBe("ok");
    expect(retries).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it("lets a 429's rate-limit headers hold the retry back", async () => {
    const limiter = new RateLimiter({ limits: { "model:*": { requestsPerMinute: 600 } } });
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after-ms": "10", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "400ms" } }, { kind: "text", content: "ok" });
    await run(graph, { messages: [new HumanMessage("hi")] }, { model: model(), rateLimit: { limiter }, resilience: { baseDelayMs: 10 } });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(380);
  });

  it("fails clearly instead of waiting past the deadline, and counts a user's key too", async () => {
    const limiter = new RateLimiter({ limits: { "user:alice": { requestsPerMinute: 1 } } });
    server.setFallback({ kind: "text", content: "ok" });
    await run(graph, { messages: [new HumanMessage("first")] }, { model: model(), rateLimit: { limiter, keys: ["user:alice"] } });
    const error = await run(graph, { messages: [new HumanMessage("second")] }, { model: model(), rateLimit: { limiter, keys: ["user:alice"], deadlineMs: 1_000 } }).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain("user:alice");
    expect((error as { cause?: unknown }).cause ?? error).toBeInstanceOf(RateLimitTimeoutError);
    expect(server.requests).toHaveLength(1);
  });
});
