import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { startPoller, startPollers, type PolledItem, type PollLogEntry } from "./poller.ts";
import { MemoryPollStateStore, type PollSourceState, type PollStateStore } from "./state.ts";

const root = mkdtempSync(join(tmpdir(), "conclave-poller-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;

function folderWith(files: Record<string, string>): string {
  const path = join(root, `f${++folders}`);
  mkdirSync(path);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
  return path;
}

/** A memory store whose loads are slow and counted, to see how polls overlap. */
class SlowStore implements PollStateStore {
  readonly inner = new MemoryPollStateStore();
  loads = 0;
  active = 0;
  maxActive = 0;
  failWith: Error | undefined;
  constructor(private readonly delayMs: number) {}

  async load(source: string): Promise<PollSourceState> {
    this.loads += 1;
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await sleep(this.delayMs);
      if (this.failWith) throw this.failWith;
      return await this.inner.load(source);
    } finally {
      this.active -= 1;
    }
  }

  save(source: string, state: PollSourceState): Promise<void> {
    return this.inner.save(source, state);
  }
}

const source = (path: string, name = "docs") => ({ type: "folder" as const, name, path, minAgeMs: 0, intervalMs: 200 });

describe("startPoller scheduling", () => {
  it("polls on its own, first right away, and never runs two polls at once", async () => {
    const store = new SlowStore(150);
    const submitted: PolledItem[] = [];
    const poller = startPoller({ source: source(folderWith({ "a.md": "hello" })), state: store, submit: async (item) => void submitted.push(item) });
    // Asked-for polls join the same line as the timer's.
    const asked = [poller.pollOnce(), poller.pollOnce()];
    await sleep(1_000);
    await Promise.all(asked);
    await poller.stop();
    expect(store.maxActive).toBe(1);
    // 150 ms polls 200 ms apart, plus two asked for: at least four in a second, however the timer lands.
    expect(store.loads).toBeGreaterThanOrEqual(4);
    expect(submitted.map((item) => item.itemId)).toEqual(["a.md"]);
  });

  it("stop() waits for the poll in progress and no poll starts after it", async () => {
    const store = new SlowStore(100);
    const poller = startPoller({ source: source(folderWith({ "a.md": "x" })), state: store, submit: async () => undefined });
    await sleep(50); // the first poll is inside load()
    await poller.stop();
    expect(store.active).toBe(0);
    const loads = store.loads;
    await sleep(500);
    expect(store.loads).toBe(loads);
  });

  it("stopping mid-batch keeps what was submitted and holds back the rest", async () => {
    const state = new MemoryPollStateStore();
    const submitted: string[] = [];
    const poller = startPoller({
      source: source(folderWith({ "a.md": "a", "b.md": "b", "c.md": "c" })),
      state,
      schedule: false,
      submit: async (item) => {
        submitted.push(item.itemId);
        void poller.stop(); // not awaited: stop() waits for this very poll
      },
    });
    const result = await poller.pollOnce();
    expect(result).toMatchObject({ submitted: 1, error: "stopped before the poll finished" });
    expect(submitted).toEqual(["a.md"]);
    expect((await state.load("docs")).seen).toEqual({ "a.md": expect.any(String) });
  });

  it("an aborted signal stops the poller", async () => {
    const store = new SlowStore(0);
    const controller = new AbortController();
    startPoller({ source: source(folderWith({})), state: store, submit: async () => undefined, signal: controller.signal });
    await sleep(300);
    controller.abort();
    await sleep(50);
    const loads = store.loads;
    expect(loads).toBeGreaterThanOrEqual(1);
    await sleep(500);
    expect(store.loads).toBe(loads);
  });

  it("backs off after failing polls, within maxBackoffMs, and logs why", async () => {
    const failing = new SlowStore(0);
    failing.failWith = new Error("disk unavailable");
    const logs: PollLogEntry[] = [];
    const backingOff = startPoller({ source: source(folderWith({})), state: failing, submit: async () => undefined, log: (entry) => logs.push(entry) });
    const capped = new SlowStore(0);
    capped.failWith = new Error("disk unavailable");
    const cappedPoller = startPoller({ source: source(folderWith({}), "capped"), state: capped, submit: async () => undefined, maxBackoffMs: 200 });
    await sleep(1_100);
    await Promise.all([backingOff.stop(), cappedPoller.stop()]);
    // Doubling from 200 ms: polls at 0, 400 and 1200 ms. At a steady 200 ms it would be about six.
    expect(failing.loads).toBeLessThanOrEqual(3);
    expect(capped.loads).toBeGreaterThanOrEqual(4);
    expect(logs).toContainEqual(expect.objectContaining({ level: "error", source: "docs", message: "poll failed: disk unavailable" }));
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", message: "next poll in 400 ms" }));
  });

  it("startPollers polls every source and stops them together", async () => {
    const submitted: PolledItem[] = [];
    const group = startPollers([{ ...source(folderWith({ "a.md": "a" }), "one"), intervalMs: 60_000 }, { ...source(folderWith({ "b.md": "b" }), "two"), intervalMs: 60_000 }], {
      state: new MemoryPollStateStore(),
      submit: async (item) => void submitted.push(item),
      schedule: false,
    });
    const results = await group.pollOnce();
    expect(results.map((result) => [result.source, result.submitted])).toEqual([
      ["one", 1],
      ["two", 1],
    ]);
    expect(submitted.map((item) => item.idempotencyKey.split(":").slice(0, 3).join(":")).sort()).toEqual(["poll:one:a.md", "poll:two:b.md"]);
    await group.stop();
  });
});
