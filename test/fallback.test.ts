import { HumanMessage } from "@langchain/core/messages";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { MemoryCacheStore, OfflineChatModel, RunEvents, breakers, createAgentGraph, createChatModel, defineAgent, run } from "../src/index.ts";
import type { ConclaveEvent, RunOptions } from "../src/index.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";

let primary: FakeOpenAIServer;
let backup: FakeOpenAIServer;
beforeEach(async () => {
  [primary, backup] = await Promise.all([startFakeOpenAIServer(), startFakeOpenAIServer()]);
});
afterEach(async () => {
  await Promise.all([primary.close(), backup.close()]);
  breakers.clear();
});

const graph = createAgentGraph(defineAgent({ name: "resilient", instructions: "Answer.", tools: [], maxSteps: 2 }));
const fast = { baseDelayMs: 5, maxDelayMs: 10, maxRetries: 1 };

function modelOn(server: FakeOpenAIServer, name: string) {
  return createChatModel({ provider: "openai", name, baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0, temperature: 0 });
}

async function ask(options: Partial<RunOptions>, question = "What is the capital of Kenya?") {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const { model, info } = modelOn(primary, "primary-model");
  const outcome = await run(graph, { messages: [new HumanMessage(question)] }, { model, modelInfo: info, events, resilience: fast, ...options }).then(
    (result) => ({ answer: result.state.messages.at(-1)?.text, error: undefined as Error | undefined }),
    (error: Error) => ({ answer: undefined, error }),
  );
  return { ...outcome, seen, end: seen.find((event): event is Extract<ConclaveEvent, { type: "llm-call-end" }> => event.type === "llm-call-end") };
}

describe("the fallback chain", () => {
  it("answers from a backup model when the primary is down, and says so", async () => {
    primary.setFallback({ kind: "error", status: 503 });
    backup.enqueue({ kind: "text", content: "Nairobi (from the backup)" });
    const { answer, seen, end } = await ask({ fallback: { models: [modelOn(backup, "backup-model")] } });
    expect(answer).toBe("Nairobi (from the backup)");
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(1);
    expect(seen.find((event) => event.type === "fallback")).toMatchObject({ from: "primary-model", level: "backup", model: "backup-model" });
    expect(end).toMatchObject({ model: "backup-model", answeredBy: "backup" });
  });

  it("falls through a dead backup to the offline model", async () => {
    primary.setFallback({ kind: "error", status: 500 });
    backup.setFallback({ kind: "reset" });
    const offline = { model: new OfflineChatModel({}), info: { provider: "offline", name: "conclave-offline", offline: true } };
    const { answer, end } = await ask({ fallback: { models: [modelOn(backup, "backup-model"), offline] } }, "Summarise this.\n[note#1] The office moves to Nairobi in May.");
    expect(answer).toBe("The office moves to Nairobi in May. [note#1]");
    expect(end).toMatchObject({ model: "conclave-offline", answeredBy: "backup" });
  });

  it("answers from the cache, then from the template, when every model is down", async () => {
    const store = new MemoryCacheStore();
    primary.enqueue({ kind: "text", content: "Nairobi." });
    await ask({ cache: { store } });
    primary.setFallback({ kind: "error", status: 502 });
    const fromCache = await ask({ cache: { store }, fallback: { useCache: true, template: "unused" } });
    // A fresh request (no cache hit up front) that the cache still holds: the primary is tried first.
    expect(fromCache.answer).toBe("Nairobi.");

    const fromTemplate = await ask({ fallback: { useCache: true, template: "The assistant is degraded right now; please try again shortly." } }, "Another question?");
    expect(fromTemplate.answer).toBe("The assistant is degraded right now; please try again shortly.");
    expect(fromTemplate.end).toMatchObject({ answeredBy: "template", costUsd: 0 });
  });

  it("keeps the last good answer of a sampled request to stand in when the primary fails", async () => {
    const store = new MemoryCacheStore();
    const sampled = createChatModel({ provider: "openai", name: "primary-model", baseUrl: primary.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 });
    primary.enqueue({ kind: "text", content: "first sample" });
    // Sampled calls are not cached for reuse, but with a cache level in the chain the last good answer is kept.
    await run(graph, { messages: [new HumanMessage("q")] }, { model: sampled.model, modelInfo: sampled.info, cache: { store }, fallback: { useCache: true }, resilience: fast });
    primary.setFallback({ kind: "error", status: 503 });
    const events = new RunEvents();
    const fallbacks: string[] = [];
    events.on("fallback", (event) => fallbacks.push(event.level));
    const result = await run(graph, { messages: [new HumanMessage("q")] }, { model: sampled.model, modelInfo: sampled.info, events, cache: { store }, fallback: { useCache: true }, resilience: fast });
    expect(result.state.messages.at(-1)?.text).toBe("first sample");
    expect(fallbacks).toEqual(["cache"]);
  });

  it("never caches a backup's answer as the primary's", async () => {
    const store = new MemoryCacheStore();
    primary.enqueue({ kind: "error", status: 503 }, { kind: "error", status: 503 }, { kind: "text", content: "from the primary" });
    backup.enqueue({ kind: "text", content: "from the backup" });
    const first = await ask({ cache: { store }, fallback: { models: [modelOn(backup, "backup-model")] } });
    expect(first.answer).toBe("from the backup");
    const second = await ask({ cache: { store }, fallback: { models: [modelOn(backup, "backup-model")] } });
    expect(second.answer).toBe("from the primary");
    expect(second.end?.cached).toBeUndefined();
  });

  it("keeps separate circuits for the same model on two endpoints", async () => {
    primary.setFallback({ kind: "error", status: 503 });
    backup.setFallback({ kind: "text", content: "same model, other server" });
    const sameModel = modelOn(backup, "primary-model");
    const options = { resilience: { ...fast, maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 60_000 } }, fallback: { models: [sameModel] } };
    expect((await ask(options)).answer).toBe("same model, other server");
    expect((await ask(options)).answer).toBe("same model, other server");
    expect(backup.requests).toHaveLength(2);
  });

  it("does not stand in for a request the provider rejects, nor template a structured answer", async () => {
    primary.enqueue({ kind: "error", status: 400, body: { error: { message: "bad", type: "invalid_request_error", code: null, param: null } } });
    const rejected = await ask({ fallback: { models: [modelOn(backup, "backup-model")], template: "x" } });
    expect(rejected.error?.message).toContain("answered 400");
    expect(backup.requests).toHaveLength(0);

    primary.setFallback({ kind: "error", status: 503 });
    const structuredAgent = createAgentGraph(defineAgent({ name: "planner", instructions: "Plan.", tools: [], outputSchema: z.object({ steps: z.array(z.string()) }), maxSteps: 2 }));
    const { model, info } = modelOn(primary, "primary-model");
    const error = await run(structuredAgent, { messages: [new HumanMessage("plan")] }, { model, modelInfo: info, resilience: fast, fallback: { template: "degraded" } }).catch((caught: Error) => caught);
    expect((error as Error).message).toContain("answered 503");
  });
});
