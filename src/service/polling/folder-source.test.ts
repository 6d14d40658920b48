import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startPoller, type PolledItem, type PollerOptions, type PollLogEntry } from "./poller.ts";
import { FilePollStateStore, MemoryPollStateStore, type PollStateStore } from "./state.ts";

const root = mkdtempSync(join(tmpdir(), "conclave-poll-folder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
let folders = 0;

/** A fresh folder and a poller over it that records what it submits; polls only when asked. */
function setup(options: { state?: PollStateStore; source?: Record<string, unknown>; now?: () => number } = {}) {
  const path = join(root, `inbox-${++folders}`);
  mkdirSync(path);
  return { path, ...poller(path, options) };
}

function poller(path: string, options: { state?: PollStateStore; source?: Record<string, unknown>; now?: () => number } = {}) {
  const submitted: PolledItem[] = [];
  const logs: PollLogEntry[] = [];
  const control = { failWith: undefined as Error | undefined };
  const state = options.state ?? new MemoryPollStateStore();
  const config: PollerOptions = {
    source: { type: "folder", name: "docs", path, minAgeMs: 0, graph: "summarise", ...options.source } as PollerOptions["source"],
    state,
    schedule: false,
    log: (entry) => logs.push(entry),
    submit: async (item) => {
      if (control.failWith) throw control.failWith;
      submitted.push(item);
    },
    ...(options.now ? { now: options.now } : {}),
  };
  return { poller: startPoller(config), submitted, logs, control, state };
}

describe("folder poll source", () => {
  it("submits a new file once, nothing while unchanged, and the edited version with a new key", async () => {
    const { path, poller, submitted } = setup();
    writeFileSync(join(path, "a.md"), "first draft");
    writeFileSync(join(path, "notes.json"), "{}"); // not a listed suffix
    writeFileSync(join(path, ".a.md.swp"), "editor junk"); // dot-file

    expect(await poller.pollOnce()).toMatchObject({ source: "docs", fetched: 1, submitted: 1, unchanged: 0, failed: 0 });
    expect(submitted).toEqual([{ source: "docs", itemId: "a.md", hash: sha256("first draft"), input: "File: a.md\n\nfirst draft", graph: "summarise", idempotencyKey: `poll:docs:a.md:${sha256("first draft")}` }]);

    expect(await poller.pollOnce()).toMatchObject({ fetched: 1, submitted: 0, unchanged: 1 });
    expect(submitted).toHaveLength(1);

    writeFileSync(join(path, "a.md"), "second draft, longer");
    expect(await poller.pollOnce()).toMatchObject({ submitted: 1, unchanged: 0 });
    expect(submitted).toHaveLength(2);
    expect(submitted[1]!.idempotencyKey).toBe(`poll:docs:a.md:${sha256("second draft, longer")}`);
    expect(submitted[1]!.idempotencyKey).not.toBe(submitted[0]!.idempotencyKey);
  });

  it("does not resubmit after a restart with the same state file", async () => {
    const statePath = join(root, "restart-state.json");
    const first = setup({ state: new FilePollStateStore(statePath) });
    writeFileSync(join(first.path, "a.md"), "hello");
    writeFileSync(join(first.path, "b.txt"), "world");
    expect((await first.poller.pollOnce()).submitted).toBe(2);
    await first.poller.stop();

    const restarted = poller(first.path, { state: new FilePollStateStore(statePath) });
    expect(await restarted.poller.pollOnce()).toMatchObject({ fetched: 2, submitted: 0, unchanged: 2 });
    expect(restarted.submitted).toEqual([]);
    // Without the saved state the same folder would be submitted again: the file is what prevents it.
    const forgetful = poller(first.path);
    expect((await forgetful.poller.pollOnce()).submitted).toBe(2);
  });

  it("keeps an item whose submit failed unseen and submits it on the next poll", async () => {
    const { path, poller, submitted, control, logs } = setup();
    writeFileSync(join(path, "a.md"), "important");
    control.failWith = new Error("queue unavailable");
    expect(await poller.pollOnce()).toMatchObject({ submitted: 0, failed: 1 });
    expect(logs).toContainEqual(expect.objectContaining({ level: "error", message: "submitting a.md failed, retrying next poll: queue unavailable" }));

    control.failWith = undefined;
    expect(await poller.pollOnce()).toMatchObject({ submitted: 1, failed: 0 });
    expect(submitted.map((item) => item.idempotencyKey)).toEqual([`poll:docs:a.md:${sha256("important")}`]);
  });

  it("forgets deleted files, and leaves files still being written for a later poll", async () => {
    let clock = Date.now();
    const { path, poller, submitted, state } = setup({ now: () => clock, source: { minAgeMs: 60_000, includeFileName: false } });
    writeFileSync(join(path, "a.md"), "fresh");
    expect(await poller.pollOnce()).toMatchObject({ fetched: 1, pending: 1, submitted: 0 });

    clock += 61_000;
    expect(await poller.pollOnce()).toMatchObject({ pending: 0, submitted: 1 });
    expect(submitted[0]!.input).toBe("fresh");
    expect((await state.load("docs")).seen).toEqual({ "a.md": sha256("fresh") });

    rmSync(join(path, "a.md"));
    expect(await poller.pollOnce()).toMatchObject({ fetched: 0 });
    expect((await state.load("docs")).seen).toEqual({});
  });

  it("reports a missing folder and an oversized file clearly, and recovers", async () => {
    const { path, poller, logs, submitted } = setup({ source: { maxBytes: 10 } });
    rmSync(path, { recursive: true });
    const missing = await poller.pollOnce();
    expect(missing.error).toBe(`Poll source "docs": folder ${path} does not exist; create it or fix the source's path.`);
    expect(logs).toContainEqual(expect.objectContaining({ level: "error", message: `poll failed: ${missing.error}` }));

    mkdirSync(path);
    writeFileSync(join(path, "big.md"), "x".repeat(11));
    writeFileSync(join(path, "small.md"), "ok");
    const result = await poller.pollOnce();
    expect(result).toMatchObject({ fetched: 2, submitted: 1, failed: 1 });
    expect(result.error).toBeUndefined();
    expect(submitted.map((item) => item.itemId)).toEqual(["small.md"]);
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", message: "skipped big.md: file is 11 bytes, over the source's maxBytes (10); split it or raise maxBytes" }));
  });

  it("keeps idempotency keys within 200 characters for long file names", async () => {
    const { path, poller, submitted } = setup();
    const name = `${"n".repeat(180)}.md`;
    writeFileSync(join(path, name), "long");
    await poller.pollOnce();
    const key = submitted[0]!.idempotencyKey;
    expect(key.length).toBeLessThanOrEqual(200);
    expect(key).toBe(`poll:docs:~${sha256(name).slice(0, 32)}:${sha256("long")}`);
    expect(submitted[0]!.itemId).toBe(name);
  });
});
