import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../errors.ts";
import { createCacheStore } from "./create-store.ts";
import { MemoryCacheStore } from "./memory-store.ts";
import { RedisCacheStore } from "./redis-store.ts";
import { SqliteCacheStore } from "./sqlite-store.ts";

describe("createCacheStore", () => {
  it("builds the backend the configuration names", async () => {
    const memory = createCacheStore({ backend: "memory", maxEntries: 5, ttlMs: 1_000 });
    expect(memory).toBeInstanceOf(MemoryCacheStore);
    await memory.close();
    const cwd = mkdtempSync(join(tmpdir(), "conclave-cache-"));
    try {
      const sqlite = createCacheStore({ backend: "sqlite", cwd, path: "c.sqlite" });
      expect(sqlite).toBeInstanceOf(SqliteCacheStore);
      expect((sqlite as SqliteCacheStore).path).toBe(join(cwd, "c.sqlite"));
      await sqlite.close();
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    // No connection is made until the first operation.
    const redis = createCacheStore({ backend: "redis", redisUrl: "redis://127.0.0.1:6379" });
    expect(redis).toBeInstanceOf(RedisCacheStore);
    await redis.close();
  });

  it("says how to fix a redis backend without a URL", () => {
    expect(() => createCacheStore({ backend: "redis" })).toThrow(ConfigError);
    expect(() => createCacheStore({ backend: "redis" })).toThrow(/needs a server URL.*REDIS_URL.*memory or sqlite/);
  });

  it("rejects invalid settings with a ConfigError", () => {
    expect(() => createCacheStore({ backend: "disk" as "memory" })).toThrow(/Invalid cache configuration: backend/);
    expect(() => createCacheStore({ backend: "memory", maxEntries: 1.5 })).toThrow(ConfigError);
    expect(() => createCacheStore({ backend: "memory", ttlMs: 0 })).toThrow(/ttlMs/);
  });
});
