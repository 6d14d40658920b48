import { describe, expect, it } from "vitest";
import { ConfigError } from "../../errors.ts";
import { MemoryCacheStore } from "./memory-store.ts";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("MemoryCacheStore", () => {
  it("gets, sets, deletes and clears", async () => {
    const store = new MemoryCacheStore();
    expect(store.kind).toBe("memory");
    expect(await store.get("missing")).toBeUndefined();
    await store.set("a", 1);
    await store.set("b", 2);
    expect(await store.get("a")).toBe(1);
    await store.set("a", 10);
    expect(await store.get("a")).toBe(10);
    await store.delete("a");
    expect(await store.get("a")).toBeUndefined();
    expect(await store.get("b")).toBe(2);
    await store.clear();
    expect(await store.get("b")).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it("round-trips objects, arrays and strings as copies", async () => {
    const store = new MemoryCacheStore();
    const object = { text: "answer", usage: { input: 3, output: 4 }, tags: ["a", "b"], none: null };
    await store.set("object", object);
    await store.set("array", [1, "two", { three: 3 }]);
    await store.set("string", "plain");
    expect(await store.get("object")).toEqual(object);
    expect(await store.get("array")).toEqual([1, "two", { three: 3 }]);
    expect(await store.get("string")).toBe("plain");
    // A caller mutating what it stored or read never changes the cached value.
    object.usage.input = 99;
    const read = await store.get<typeof object>("object");
    expect(read?.usage.input).toBe(3);
    read!.tags.push("c");
    expect((await store.get<typeof object>("object"))?.tags).toEqual(["a", "b"]);
  });

  it("never returns an expired entry", async () => {
    const clock = manualClock();
    const store = new MemoryCacheStore({ now: clock.now, ttlMs: 1_000 });
    await store.set("default-ttl", "x");
    await store.set("own-ttl", "y", 5_000);
    clock.advance(999);
    expect(await store.get("default-ttl")).toBe("x");
    clock.advance(1);
    expect(await store.get("default-ttl")).toBeUndefined();
    expect(store.size).toBe(1);
    expect(await store.get("own-ttl")).toBe("y");
    clock.advance(4_000);
    expect(await store.get("own-ttl")).toBeUndefined();
  });

  it("keeps entries without a TTL until evicted", async () => {
    const clock = manualClock();
    const store = new MemoryCacheStore({ now: clock.now });
    await store.set("forever", true);
    clock.advance(365 * 24 * 3_600_000);
    expect(await store.get("forever")).toBe(true);
  });

  it("evicts the least recently used entry, counting reads as use", async () => {
    const store = new MemoryCacheStore({ maxEntries: 3 });
    await store.set("a", "A");
    await store.set("b", "B");
    await store.set("c", "C");
    expect(await store.get("a")).toBe("A"); // a is now the most recently used
    await store.set("d", "D");
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("a")).toBe("A");
    await store.set("c", "C2"); // rewriting counts as use too
    await store.set("e", "E");
    expect(await store.get("d")).toBeUndefined();
    expect([await store.get("a"), await store.get("c"), await store.get("e")]).toEqual(["A", "C2", "E"]);
    expect(store.size).toBe(3);
  });

  it("rejects values JSON cannot hold and bad limits", async () => {
    const store = new MemoryCacheStore();
    await expect(store.set("fn", () => 1)).rejects.toThrow(/JSON-serialisable/);
    await expect(store.set("undefined", undefined)).rejects.toThrow(/JSON-serialisable/);
    await expect(store.set("zero-ttl", "x", 0)).rejects.toThrow(ConfigError);
    expect(() => new MemoryCacheStore({ maxEntries: 0 })).toThrow(ConfigError);
    expect(() => new MemoryCacheStore({ ttlMs: -5 })).toThrow(/positive number of milliseconds/);
  });
});
