import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteCacheStore } from "./sqlite-store.ts";

const folders: string[] = [];
const stores: SqliteCacheStore[] = [];

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "conclave-cache-"));
  folders.push(folder);
  return folder;
}

function open(options: ConstructorParameters<typeof SqliteCacheStore>[0] = {}): SqliteCacheStore {
  const store = new SqliteCacheStore({ cwd: tempFolder(), ...options });
  stores.push(store);
  return store;
}

function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function rowCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM cache").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe("SqliteCacheStore", () => {
  it("creates .conclave/cache.sqlite under cwd, in WAL mode", async () => {
    const cwd = tempFolder();
    const store = open({ cwd });
    expect(store.kind).toBe("sqlite");
    expect(store.path).toBe(join(cwd, ".conclave", "cache.sqlite"));
    expect(existsSync(store.path)).toBe(true);
    const db = new Database(store.path, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("gets, sets, deletes and clears", async () => {
    const store = open();
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
    expect(rowCount(store.path)).toBe(0);
  });

  it("round-trips objects, arrays and strings", async () => {
    const store = open();
    const object = { text: "answer", usage: { input: 3, output: 4 }, tags: ["a", "b"], none: null };
    await store.set("object", object);
    await store.set("array", [1, "two", { three: 3 }]);
    await store.set("string", "plain");
    expect(await store.get("object")).toEqual(object);
    expect(await store.get("array")).toEqual([1, "two", { three: 3 }]);
    expect(await store.get("string")).toBe("plain");
  });

  it("keeps entries across two stores on the same file", async () => {
    const cwd = tempFolder();
    const first = new SqliteCacheStore({ cwd, path: "cache/answers.sqlite" });
    await first.set("answer", { text: "395" });
    await first.close();
    const second = open({ cwd, path: "cache/answers.sqlite" });
    expect(second.path).toBe(join(cwd, "cache", "answers.sqlite"));
    expect(await second.get("answer")).toEqual({ text: "395" });
  });

  it("never returns an expired row, and purges expired rows when it meets one", async () => {
    const clock = manualClock();
    const store = open({ now: clock.now, ttlMs: 1_000 });
    await store.set("short", "x");
    await store.set("also-short", "y", 500);
    await store.set("long", "z", 10_000);
    clock.advance(999);
    expect(await store.get("short")).toBe("x");
    expect(await store.get("also-short")).toBeUndefined();
    clock.advance(1);
    expect(await store.get("short")).toBeUndefined();
    expect(rowCount(store.path)).toBe(1);
    expect(await store.get("long")).toBe("z");
  });

  it("evicts the oldest-stored rows beyond maxEntries, expired rows first", async () => {
    const clock = manualClock();
    const store = open({ now: clock.now, maxEntries: 3 });
    for (const key of ["a", "b", "c"]) {
      await store.set(key, key.toUpperCase());
      clock.advance(10);
    }
    await store.set("d", "D");
    expect(await store.get("a")).toBeUndefined();
    expect(rowCount(store.path)).toBe(3);
    // Rewriting b makes it the newest, so c is the oldest now.
    await store.set("b", "B2");
    await store.set("e", "E");
    expect(await store.get("c")).toBeUndefined();
    expect([await store.get("b"), await store.get("d"), await store.get("e")]).toEqual(["B2", "D", "E"]);
    // Rows stored in the same millisecond are evicted in the order they were written.
    const tied = open({ now: () => 5, maxEntries: 2 });
    for (const key of ["x", "y", "z"]) await tied.set(key, key);
    expect([await tied.get("x"), await tied.get("y"), await tied.get("z")]).toEqual([undefined, "y", "z"]);
    // An expired row goes before any live one.
    const mixed = open({ now: clock.now, maxEntries: 2 });
    await mixed.set("old-live", 1);
    await mixed.set("expiring", 2, 5);
    clock.advance(10);
    await mixed.set("new", 3);
    expect(await mixed.get("old-live")).toBe(1);
    expect(rowCount(mixed.path)).toBe(2);
  });

  it("says which file it cannot open", () => {
    const cwd = tempFolder();
    expect(() => new SqliteCacheStore({ cwd, path: "." })).toThrow(/Cannot open the SQLite cache at .*choose the memory cache backend/);
  });
});
