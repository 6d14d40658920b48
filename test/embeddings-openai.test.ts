import { describe, expect, it } from "vitest";
import { buildIndex, BUNDLED_CORPUS } from "../tools/index.ts";
import { ConfigSchema, OfflineEmbeddings, createEmbeddings } from "../src/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

describe("embeddings for retrieval", () => {
  it("stay offline when only the chat model points at a server", () => {
    const { embeddings, info } = createEmbeddings(ConfigSchema.parse({ model: { baseUrl: server.url, apiKey: "k" } }));
    expect(embeddings).toBeInstanceOf(OfflineEmbeddings);
    expect(info).toMatchObject({ provider: "offline", offline: true });
  });

  it("use an OpenAI-compatible endpoint when configured, and retrieval works over it", async () => {
    const config = ConfigSchema.parse({ model: { baseUrl: server.url, apiKey: "k" }, embeddings: { name: "fake-embed" } });
    const { embeddings, info } = createEmbeddings(config);
    expect(info).toEqual({ provider: "openai-compatible", name: "fake-embed", offline: false });
    const index = await buildIndex(BUNDLED_CORPUS, embeddings);
    const [best] = await index.search("Alexander Fleming discovered penicillin in 1928", 3);
    expect(best?.documentId).toBe("penicillin");
    expect(server.embeddingRequests.length).toBeGreaterThan(0);
    expect(server.embeddingRequests.every((request) => request.model === "fake-embed")).toBe(true);
    const embedded = server.embeddingRequests.flatMap((request) => (Array.isArray(request.input) ? request.input : [request.input]));
    expect(embedded.length).toBe(index.passages.length + 1);
  });
});
