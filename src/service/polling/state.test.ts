import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FilePollStateStore, MemoryPollStateStore, PollStateError } from "./state.ts";

const folder = mkdtempSync(join(tmpdir(), "conclave-poll-state-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("FilePollStateStore", () => {
  it("keeps every source's cursor and seen items across instances (a restart)", async () => {
    const path = join(folder, "nested", "state.json");
    const store = new FilePollStateStore(path);
    expect(await store.load("docs")).toEqual({ seen: {} });
    // Saves from two pollers at once must both land, not overwrite each other.
    await Promise.all([store.save("docs", { seen: { "a.md": "h1" } }), store.save("feed", { cursor: "42", seen: { "7": "h7" } })]);

    const restarted = new FilePollStateStore(path);
    expect(await restarted.load("docs")).toEqual({ seen: { "a.md": "h1" } });
    expect(await restarted.load("feed")).toEqual({ cursor: "42", seen: { "7": "h7" } });
    expect(JSON.parse(readFileSync(path, "utf8")).version).toBe(1);
    // Written through a temporary file renamed into place: none is left behind.
    expect(readdirSync(join(folder, "nested"))).toEqual(["state.json"]);
  });

  it("hands out copies, so a caller's edits are not saved by accident", async () => {
    const store = new FilePollStateStore(join(folder, "copies.json"));
    const state = await store.load("docs");
    state.seen["x"] = "changed";
    expect(await store.load("docs")).toEqual({ seen: {} });
    const memory = new MemoryPollStateStore();
    await memory.save("docs", state);
    state.seen["y"] = "later";
    expect(await memory.load("docs")).toEqual({ seen: { x: "changed" } });
  });

  it("refuses a corrupt or foreign file with the path and what to do", async () => {
    const corrupt = join(folder, "corrupt.json");
    writeFileSync(corrupt, "{ not json");
    await expect(new FilePollStateStore(corrupt).load("docs")).rejects.toThrow(PollStateError);
    await expect(new FilePollStateStore(corrupt).load("docs")).rejects.toThrow(`The poll state file ${corrupt} is not valid JSON. Delete it to start over`);
    const foreign = join(folder, "foreign.json");
    writeFileSync(foreign, JSON.stringify({ version: 2, sources: {} }));
    await expect(new FilePollStateStore(foreign).load("docs")).rejects.toThrow(/is not a version 1 poll state/);
  });
});
