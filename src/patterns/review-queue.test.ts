import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConclaveError, ConfigError } from "../errors.ts";
import { MemoryReviewQueue, ReviewItemNotFoundError, SqliteReviewQueue } from "./review-queue.ts";
import type { ReviewQueue } from "./review-queue.ts";

const folders: string[] = [];
const queues: SqliteReviewQueue[] = [];

function tempFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "conclave-review-"));
  folders.push(folder);
  return folder;
}

function sqlite(options: ConstructorParameters<typeof SqliteReviewQueue>[0] = {}): SqliteReviewQueue {
  const queue = new SqliteReviewQueue({ cwd: tempFolder(), ...options });
  queues.push(queue);
  return queue;
}

afterEach(() => {
  for (const queue of queues.splice(0)) queue.close();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const unsure = {
  task: "What is the airspeed of an unladen swallow?",
  candidates: [
    { model: "small", answer: "About 20 mph.", confidence: 0.3 },
    { model: "large", answer: "About 11 m/s for a European swallow.", confidence: 0.55 },
  ],
  reason: "no tier reached confidence 0.70",
};

function behavesLikeAQueue(name: string, open: () => ReviewQueue) {
  describe(name, () => {
    it("adds pending items with an id and a time, and lists them in order", async () => {
      const queue = open();
      const first = await queue.add(unsure);
      const second = await queue.add({ ...unsure, task: "Second task" });
      expect(first).toMatchObject({ ...unsure, status: "pending" });
      expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.id).not.toBe(second.id);
      expect(first.createdAt).toBeGreaterThan(0);
      expect((await queue.list()).map((item) => item.task)).toEqual([unsure.task, "Second task"]);
      expect(await queue.get(first.id)).toEqual(first);
      expect(await queue.get("missing")).toBeUndefined();
    });

    it("resolves an item and filters by status", async () => {
      const queue = open();
      const first = await queue.add(unsure);
      const second = await queue.add({ ...unsure, task: "Second task" });
      const resolved = await queue.resolve(first.id, "Roughly 11 m/s.");
      expect(resolved).toMatchObject({ id: first.id, status: "resolved", resolution: "Roughly 11 m/s." });
      expect(await queue.get(first.id)).toEqual(resolved);
      expect((await queue.list("pending")).map((item) => item.id)).toEqual([second.id]);
      expect((await queue.list("resolved")).map((item) => item.id)).toEqual([first.id]);
    });

    it("says how to find a valid id when resolving an unknown one", async () => {
      const queue = open();
      const error = await queue.resolve("nope", "x").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ReviewItemNotFoundError);
      expect(error).toBeInstanceOf(ConclaveError);
      expect(error).toMatchObject({ code: "REVIEW_ITEM_NOT_FOUND", category: "user" });
      expect((error as Error).message).toMatch(/No review item with id "nope".*queue\.list\("pending"\)/);
    });

    it("hands out copies, so editing a returned item does not edit the queue", async () => {
      const queue = open();
      const item = await queue.add(unsure);
      item.candidates[0]!.answer = "edited";
      (await queue.list())[0]!.candidates.pop();
      expect((await queue.get(item.id))?.candidates).toEqual(unsure.candidates);
    });
  });
}

behavesLikeAQueue("MemoryReviewQueue", () => new MemoryReviewQueue());
behavesLikeAQueue("SqliteReviewQueue", () => sqlite());

describe("SqliteReviewQueue storage", () => {
  it("creates .conclave/review.sqlite under cwd", () => {
    const cwd = tempFolder();
    const queue = sqlite({ cwd });
    expect(queue.path).toBe(join(cwd, ".conclave", "review.sqlite"));
    expect(existsSync(queue.path)).toBe(true);
  });

  it("keeps items and resolutions across instances on the same file", async () => {
    const cwd = tempFolder();
    const writer = new SqliteReviewQueue({ cwd, path: "reviews/queue.sqlite" });
    const pending = await writer.add(unsure);
    const done = await writer.add({ ...unsure, task: "Done task" });
    await writer.resolve(done.id, "Answered.");
    writer.close();
    const reader = sqlite({ cwd, path: "reviews/queue.sqlite" });
    expect(await reader.get(pending.id)).toEqual(pending);
    expect((await reader.list("pending")).map((item) => item.id)).toEqual([pending.id]);
    expect(await reader.get(done.id)).toMatchObject({ status: "resolved", resolution: "Answered." });
  });

  it("says which file it cannot open", () => {
    const cwd = tempFolder();
    expect(() => new SqliteReviewQueue({ cwd, path: "." })).toThrow(ConfigError);
    expect(() => new SqliteReviewQueue({ cwd, path: "." })).toThrow(/Cannot open the review queue database at .*MemoryReviewQueue/);
  });
});
