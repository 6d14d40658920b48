import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../errors.ts";
import { RedisCacheStore } from "./redis-store.ts";

const url = process.env.REDIS_URL ?? "";
// Every run writes under its own prefix, so tests never read or delete anyone else's keys.
const runPrefix = `conclave-test:${randomUUID()}:`;
const stores: RedisCacheStore[] = [];

function open(name: string, options: Partial<ConstructorParameters<typeof RedisCacheStore>[0]> = {}): RedisCacheStore {
  const store = new RedisCacheStore({ url, keyPrefix: `${runPrefix}${name}:`, ...options });
  stores.push(store);
  return store;
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(Boolean(process.env.REDIS_URL))("RedisCacheStore", () => {
  afterAll(async () => {
    for (const store of stores) {
      await store.clear().catch(() => {});
      await store.close();
    }
  });

  it("gets, sets, deletes and clears", async () => {
    const store = open("basic");
    expect(store.kind).toBe("redis");
    expect(await store.get("missing")).toBeUndefined();
    await store.set("a", 1);
    await store.set("b", 2);
    await store.set("a", 10);
    expect(await store.get("a")).toBe(10);
    await store.delete("a");
    expect(await store.get("a")).toBeUndefined();
    expect(await store.get("b")).toBe(2);
    await store.clear();
    expect(await store.get("b")).toBeUndefined();
  });

  it("round-trips objects, arrays and strings", async () => {
    const store = open("values");
    const object = { text: "answer", usage: { input: 3, output: 4 }, tags: ["a", "b"], none: null };
    await store.set("object", object);
    await store.set("array", [1, "two", { three: 3 }]);
    await store.set("string", "plain");
    expect(await store.get("object")).toEqual(object);
    expect(await store.get("array")).toEqual([1, "two", { three: 3 }]);
    expect(await store.get("string")).toBe("plain");
  });

  it("lets Redis expire entries after their TTL", async () => {
    const store = open("ttl", { ttlMs: 50 });
    await store.set("default-ttl", "x");
    await store.set("own-ttl", "y", 60_000);
    expect(await store.get("default-ttl")).toBe("x");
    await sleep(120);
    expect(await store.get("default-ttl")).toBeUndefined();
    expect(await store.get("own-ttl")).toBe("y");
  });

  it("clears only keys with its own prefix", async () => {
    const raw = new Redis(url);
    const unrelated = `${runPrefix}other:unrelated`;
    // Would match the prefix "gl*b:" if it were used as a glob unescaped.
    const globLookalike = `${runPrefix}gl-not-mine-b:k`;
    try {
      await raw.set(unrelated, "keep me");
      await raw.set(globLookalike, "keep me too");
      const store = open("clear");
      const globby = open("gl*b");
      // More keys than one SCAN batch, so clearing has to follow the cursor.
      for (let index = 0; index < 1_200; index++) await store.set(`key-${index}`, index);
      await globby.set("k", "v");
      await store.clear();
      await globby.clear();
      expect([await store.get("key-0"), await store.get("key-600"), await store.get("key-1199"), await globby.get("k")]).toEqual([undefined, undefined, undefined, undefined]);
      expect(await raw.get(unrelated)).toBe("keep me");
      expect(await raw.get(globLookalike)).toBe("keep me too");
    } finally {
      await raw.del(unrelated, globLookalike);
      await raw.quit();
    }
  });

  it("names the URL and the fixes when the server is unreachable", async () => {
    const port = await closedPort();
    const store = open("unreachable", { url: `redis://:secret@127.0.0.1:${port}` });
    const error = await store.get("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(message).not.toContain("secret");
    expect(message).toMatch(/Start Redis.*unset REDIS_URL/);
    // A second call tries again rather than hanging on a dead connection.
    await expect(store.set("x", 1)).rejects.toThrow(ConfigError);
  });

  it("refuses URLs that are not redis:// and use after close", async () => {
    expect(() => new RedisCacheStore({ url: "http://127.0.0.1:6379" })).toThrow(/not a redis:\/\/ or rediss:\/\/ URL/);
    const store = new RedisCacheStore({ url, keyPrefix: `${runPrefix}closed:` });
    await store.set("k", 1);
    await store.delete("k");
    await store.close();
    await expect(store.get("k")).rejects.toThrow(/closed/);
  });
});
