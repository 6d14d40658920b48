import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { CachedEmbeddings, ConfigSchema, RunEvents, createAgentGraph, createChatModel, createEmbeddings, defineAgent, run } from "../src/index.ts";
import type { ConclaveEvent } from "../src/index.ts";
import { MemoryCacheStore, RedisCacheStore, SqliteCacheStore } from "../src/resilience/cache/index.ts";
import type { CacheStore } from "../src/resilience/cache/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => {
  server = started;
  server.setFallback({ kind: "respond", handler: (request) => ({ kind: "text", content: `answer #${request.index}`, usage: { prompt_tokens: 1000, completion_tokens: 100 } }) });
});

const graph = createAgentGraph(defineAgent({ name: "cached", instructions: "Answer briefly.", tools: [], maxSteps: 2 }));

async function ask(store: CacheStore, options: { temperature?: number; cacheSampling?: boolean; question?: string } = {}) {
  const { model, info } = createChatModel({ provider: "openai", name: "gpt-4o-mini", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0, ...(options.temperature === undefined ? {} : { temperature: options.temperature }) });
  const events = new RunEvents();
  const ends: Array<Extract<ConclaveEvent, { type: "llm-call-end" }>> = [];
  events.on("llm-call-end", (event) => ends.push(event));
  const result = await run(graph, { messages: [new HumanMessage(options.question ?? "What is HNSW?")] }, { model, modelInfo: info, events, cache: { store, ...(options.cacheSampling ? { cacheSampling: true } : {}) } });
  return { answer: result.state.messages.at(-1)?.text, usage: result.usage, end: ends[0]! };
}

describe("the response cache", () => {
  it("answers a repeated deterministic request without calling the provider, and reports the saving", async () => {
    const store = new MemoryCacheStore();
    const first = await ask(store, { temperature: 0 });
    expect(first.end.cached).toBeUndefined();
    expect(server.requests).toHaveLength(1);
    const second = await ask(store, { temperature: 0 });
    expect(server.requests).toHaveLength(1);
    expect(second.answer).toBe(first.answer);
    expect(second.end).toMatchObject({ cached: true, costUsd: 0, savedCostUsd: expect.closeTo((1000 * 0.15 + 100 * 0.6) / 1e6, 12) });
    expect(second.usage).toMatchObject({ cachedCalls: 1, costUsd: 0, totalTokens: 0 });
    await ask(store, { temperature: 0, question: "Something else?" });
    expect(server.requests).toHaveLength(2);
  });

  it("does not cache calls that sample, unless asked to", async () => {
    const store = new MemoryCacheStore();
    await ask(store);
    await ask(store);
    expect(server.requests).toHaveLength(2);
    await ask(store, { temperature: 0.7, cacheSampling: true });
    const again = await ask(store, { temperature: 0.7, cacheSampling: true });
    expect(server.requests).toHaveLength(3);
    expect(again.end.cached).toBe(true);
  });

  it("persists in SQLite across processes' worth of stores", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "conclave-cache-")), "cache.sqlite");
    const writer = new SqliteCacheStore({ path });
    await ask(writer, { temperature: 0 });
    await writer.close();
    const reader = new SqliteCacheStore({ path });
    const hit = await ask(reader, { temperature: 0 });
    await reader.close();
    expect(hit.end.cached).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it("treats a failing cache as a miss, with a warning, never as a failed call", async () => {
    const broken: CacheStore = { kind: "memory", get: () => Promise.reject(new Error("disk full")), set: () => Promise.reject(new Error("disk full")), delete: async () => undefined, clear: async () => undefined, close: async () => undefined };
    const { model, info } = createChatModel({ provider: "openai", name: "gpt-4o-mini", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0, temperature: 0 });
    const events = new RunEvents();
    const warnings: string[] = [];
    events.on("warning", (event) => warnings.push(event.message));
    const result = await run(graph, { messages: [new HumanMessage("hi")] }, { model, modelInfo: info, events, cache: { store: broken } });
    expect(result.state.messages.at(-1)?.text).toBe("answer #0");
    expect(warnings).toEqual([expect.stringContaining("could not be read (disk full)"), expect.stringContaining("could not be written (disk full)")]);
  });

  it("caches provider embeddings per text, asking the endpoint only for new ones", async () => {
    const { embeddings } = createEmbeddings(ConfigSchema.parse({ embeddings: { provider: "openai", name: "fake-embed", baseUrl: server.url, apiKey: "k" }, cache: { backend: "memory" } }));
    expect(embeddings).toBeInstanceOf(CachedEmbeddings);
    const first = await embeddings.embedDocuments(["alpha", "beta"]);
    const again = await embeddings.embedDocuments(["beta", "alpha", "gamma"]);
    expect(again[0]).toEqual(first[1]);
    expect(again[1]).toEqual(first[0]);
    const sent = server.embeddingRequests.flatMap((request) => (Array.isArray(request.input) ? request.input : [request.input]));
    expect(sent).toEqual(["alpha", "beta", "gamma"]);
  });

  describe.runIf(Boolean(process.env.REDIS_URL))("on Redis (REDIS_URL)", () => {
    it("shares answers between runs through Redis", async () => {
      const keyPrefix = `conclave:test:${process.pid}:${Date.now()}:`;
      const store = new RedisCacheStore({ url: process.env.REDIS_URL!, keyPrefix });
      try {
        await ask(store, { temperature: 0 });
        const hit = await ask(store, { temperature: 0 });
        expect(hit.end.cached).toBe(true);
        expect(server.requests).toHaveLength(1);
      } finally {
        await store.clear();
        await store.close();
      }
    });
  });
});
