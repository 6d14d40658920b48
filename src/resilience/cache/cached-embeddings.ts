import { Embeddings } from "@langchain/core/embeddings";
import type { CacheStore } from "./cache-store.ts";
import { embeddingKey } from "./keys.ts";

/**
 * Embeddings that remember: each text's vector is looked up in the cache (keyed by provider,
 * model, dimensions and text) before the underlying embeddings are asked, and stored after.
 * A failing cache only costs the lookup.
 */
export class CachedEmbeddings extends Embeddings {
  constructor(
    private readonly inner: Embeddings,
    private readonly store: CacheStore,
    private readonly identity: { provider: string; model: string; dimensions?: number },
    private readonly ttlMs?: number,
  ) {
    super({});
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    const keys = texts.map((text) => embeddingKey({ ...this.identity, text }));
    const found = await Promise.all(keys.map((key) => this.store.get<number[]>(key).catch(() => undefined)));
    const missing = texts.flatMap((text, index) => (found[index] === undefined ? [{ text, index }] : []));
    if (missing.length > 0) {
      const vectors = await this.inner.embedDocuments(missing.map((item) => item.text));
      await Promise.all(missing.map((item, position) => {
        found[item.index] = vectors[position]!;
        return this.store.set(keys[item.index]!, vectors[position]!, this.ttlMs).catch(() => undefined);
      }));
    }
    return found as number[][];
  }

  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0]!;
  }
}
