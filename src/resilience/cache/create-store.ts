import { z } from "zod";
import { ConfigError } from "../../errors.ts";
import type { CacheStore } from "./cache-store.ts";
import { MemoryCacheStore } from "./memory-store.ts";
import { RedisCacheStore } from "./redis-store.ts";
import { SqliteCacheStore } from "./sqlite-store.ts";

/** Which cache backend to use and how; validated by `createCacheStore`. */
export const CacheStoreConfigSchema = z.strictObject({
  /** `memory`: this process only; `sqlite`: a file shared across runs; `redis`: a server shared across machines. */
  backend: z.enum(["memory", "sqlite", "redis"]),
  /** Default time to live of an entry (none: entries live until evicted). */
  ttlMs: z.number().positive().optional(),
  /** Entry limit of the memory and sqlite backends; Redis bounds itself with `maxmemory`. */
  maxEntries: z.number().int().positive().optional(),
  /** SQLite file, relative to `cwd` (default `.conclave/cache.sqlite`). */
  path: z.string().min(1).optional(),
  /** Redis server URL, usually `REDIS_URL`. */
  redisUrl: z.string().min(1).optional(),
  /** Folder a relative SQLite `path` is resolved against (default the process's). */
  cwd: z.string().min(1).optional(),
});

export type CacheStoreConfig = z.input<typeof CacheStoreConfigSchema>;

/**
 * The cache store a configuration asks for. Invalid settings, and `redis` without a URL, raise a
 * ConfigError saying what to change. Creating a Redis store does not connect yet: an unreachable
 * server is reported by the first cache operation.
 */
export function createCacheStore(config: CacheStoreConfig): CacheStore {
  const parsed = CacheStoreConfigSchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "cache"}: ${issue.message}`).join("; ");
    throw new ConfigError(`Invalid cache configuration: ${problems}.`, { details: { issues: parsed.error.issues } });
  }
  const { backend, ttlMs, maxEntries, path, redisUrl, cwd } = parsed.data;
  switch (backend) {
    case "memory":
      return new MemoryCacheStore({ ttlMs, maxEntries });
    case "sqlite":
      return new SqliteCacheStore({ ttlMs, maxEntries, path, cwd });
    case "redis":
      if (redisUrl === undefined) {
        throw new ConfigError("The redis cache backend needs a server URL. Set REDIS_URL (e.g. redis://127.0.0.1:6379) or pass redisUrl, or choose the memory or sqlite cache backend.", { details: { backend } });
      }
      return new RedisCacheStore({ url: redisUrl, ttlMs });
  }
}
