/** Cache stores (memory, SQLite, Redis) and the keys of model and embedding requests. */
export type { CacheEntry, CacheStore, CacheStoreOptions } from "./cache-store.ts";
export { MemoryCacheStore, DEFAULT_MEMORY_MAX_ENTRIES } from "./memory-store.ts";
export type { MemoryCacheStoreOptions } from "./memory-store.ts";
export { SqliteCacheStore, DEFAULT_SQLITE_MAX_ENTRIES, DEFAULT_SQLITE_PATH } from "./sqlite-store.ts";
export type { SqliteCacheStoreOptions } from "./sqlite-store.ts";
export { RedisCacheStore, DEFAULT_REDIS_KEY_PREFIX } from "./redis-store.ts";
export type { RedisCacheStoreOptions } from "./redis-store.ts";
export { createCacheStore, CacheStoreConfigSchema } from "./create-store.ts";
export type { CacheStoreConfig } from "./create-store.ts";
export { canonicalHash, embeddingKey, modelRequestKey } from "./keys.ts";
export type { EmbeddingKeyInput, ModelRequestKeyInput } from "./keys.ts";
export { fromStored, toStored } from "./response-cache.ts";
export type { ResponseCache } from "./response-cache.ts";
export { CachedEmbeddings } from "./cached-embeddings.ts";
