import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { DefinitionError } from "../errors.ts";
import { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { StreamProcessingError, createStreamProcessor } from "./stream.ts";
import type { StreamAlert, StreamBatchContext } from "./stream.ts";

/** A gate a test opens when it has seen what it waits for. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("stream processor", () => {
  it("holds a fast source back to a slow sink: never more than bufferSize + batch.size in flight, every item once and in order", async () => {
    const bufferSize = 20;
    const size = 10;
    let pulled = 0;
    let sunk = 0;
    let most = 0;
    const seen: number[] = [];
    // Measured at every pull: the generator body runs again only when the processor asks for the next item.
    async function* fast() {
      for (let item = 0; item < 1_000; item++) {
        pulled++;
        most = Math.max(most, pulled - sunk);
        yield item;
      }
    }
    const stream = createStreamProcessor({
      source: fast(),
      bufferSize,
      batch: { size, maxWaitMs: 1_000 },
      sink: async (batch: number[]) => {
        await sleep(1);
        seen.push(...batch);
        sunk += batch.length;
      },
    });
    const report = await stream.run();
    expect(seen).toEqual(Array.from({ length: 1_000 }, (_, item) => item));
    // The producer refills the buffer while each batch sleeps in the sink, so the bound is reached, and never passed.
    expect(most).toBe(bufferSize + size);
    expect(report).toMatchObject({ status: "done", pulled: 1_000, sunk: 1_000, deadLettered: 0, batches: 100, maxInFlight: bufferSize + size });
  });

  it("flushes a partial batch once its oldest item has waited maxWaitMs", async () => {
    const more = gate();
    async function* quiet() {
      yield* [1, 2, 3];
      await more.opened;
      yield* [4, 5];
    }
    const batches: Array<{ items: number[]; flushedBy: StreamBatchContext["flushedBy"] }> = [];
    const stream = createStreamProcessor({ source: quiet(), bufferSize: 50, batch: { size: 10, maxWaitMs: 20 }, process: (batch: number[]) => batch.map((item) => item * 10), sink: (results, context) => void batches.push({ items: results, flushedBy: context.flushedBy }) });
    const running = stream.run();
    // The source is still open (waiting on the gate): only the time limit can have cut this batch.
    await vi.waitFor(() => expect(batches).toEqual([{ items: [10, 20, 30], flushedBy: "time" }]), { timeout: 5_000 });
    more.open();
    const report = await running;
    expect(batches).toEqual([{ items: [10, 20, 30], flushedBy: "time" }, { items: [40, 50], flushedBy: "end" }]);
    expect(report).toMatchObject({ batches: 2, timeFlushes: 1, sunk: 5 });
  });

  it("alerts when the buffer stays full longer than alertAfterMs, and loses nothing once the sink recovers", async () => {
    const stuck = gate();
    const alerts: StreamAlert[] = [];
    let pulled = 0;
    const seen: number[] = [];
    async function* source() {
      for (let item = 0; item < 50; item++) {
        pulled++;
        yield item;
      }
    }
    const stream = createStreamProcessor({
      name: "readings",
      source: source(),
      bufferSize: 5,
      batch: { size: 2, maxWaitMs: 1 },
      alertAfterMs: 20,
      sink: async (batch: number[]) => {
        await stuck.opened;
        seen.push(...batch);
      },
      onAlert: (alert) => alerts.push(alert),
    });
    const running = stream.run();
    await vi.waitFor(() => expect(alerts.length).toBeGreaterThan(0), { timeout: 5_000 });
    expect(alerts[0]).toMatchObject({ kind: "buffer-full", bufferSize: 5, message: expect.stringMatching(/^readings: the buffer \(5 items\) has been full for \d+ ms: the consumer cannot keep up, so the source is being held back$/) });
    expect((alerts[0] as { fullForMs: number }).fullForMs).toBeGreaterThanOrEqual(19);
    // Held back: one batch in the sink, a full buffer, and the source not pulled past them.
    expect(pulled).toBe(5 + 2);
    stuck.open();
    const report = await running;
    expect(seen).toEqual(Array.from({ length: 50 }, (_, item) => item));
    expect(report.alerts).toBe(alerts.length);
  });

  it("alerts on a failed batch and keeps its items in the dead-letter queue, while the rest flow on", async () => {
    const deadLetters = new DeadLetterQueue({ path: join(mkdtempSync(join(tmpdir(), "conclave-stream-")), "dlq.sqlite") });
    const alerts: StreamAlert[] = [];
    const seen: number[] = [];
    const stream = createStreamProcessor({
      name: "orders",
      source: Array.from({ length: 12 }, (_, item) => item),
      bufferSize: 4,
      batch: { size: 3, maxWaitMs: 10 },
      process: (batch: number[]) => {
        if (batch.includes(7)) throw new Error("order 7 is malformed");
        return batch;
      },
      sink: (batch) => void seen.push(...batch),
      onAlert: (alert) => alerts.push(alert),
      deadLetters,
    });
    const report = await stream.run();
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 11]);
    expect(alerts).toEqual([{ kind: "process-failed", stage: "process", batchIndex: 2, items: 3, error: "order 7 is malformed", message: "orders: batch 2 (3 items) failed in process: order 7 is malformed; kept in the dead-letter queue" }]);
    expect(deadLetters.list("dead").map((letter) => [letter.kind, letter.graph, letter.input, letter.options])).toEqual([
      ["batch-item", "orders", 6, { stage: "process", batchIndex: 2, offset: 0 }],
      ["batch-item", "orders", 7, { stage: "process", batchIndex: 2, offset: 1 }],
      ["batch-item", "orders", 8, { stage: "process", batchIndex: 2, offset: 2 }],
    ]);
    expect(report).toMatchObject({ pulled: 12, sunk: 9, deadLettered: 3, alerts: 1 });
    deadLetters.close();
  });

  it("without a dead-letter queue a failed batch stops the stream, handing back every item pulled but not sunk", async () => {
    const seen: number[] = [];
    const stream = createStreamProcessor({ source: Array.from({ length: 30 }, (_, item) => item), bufferSize: 5, batch: { size: 4, maxWaitMs: 10 }, sink: (batch: number[]) => {
      if (batch.includes(9)) throw new Error("disk full");
      seen.push(...batch);
    } });
    const failure = await stream.run().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StreamProcessingError);
    const unprocessed = (failure as StreamProcessingError<number>).unprocessed;
    expect(unprocessed.slice(0, 4)).toEqual([8, 9, 10, 11]);
    // Nothing dropped: what was sunk and what came back are the items pulled, in order.
    expect([...seen, ...unprocessed]).toEqual(Array.from({ length: seen.length + unprocessed.length }, (_, item) => item));
    expect((failure as Error).message).toContain("batch 2 failed in sink: disk full");
  });

  it("stops on abort even while the source is idle, after sinking what it had", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    async function* idle() {
      yield* ["a", "b"];
      await new Promise(() => {});
    }
    const stream = createStreamProcessor({ source: idle(), bufferSize: 10, batch: { size: 5, maxWaitMs: 5 }, sink: (batch: string[]) => void seen.push(...batch) });
    const running = stream.run({ signal: controller.signal });
    await vi.waitFor(() => expect(seen).toEqual(["a", "b"]));
    controller.abort();
    await expect(running).resolves.toMatchObject({ status: "aborted", pulled: 2, sunk: 2 });
    await expect(stream.run()).rejects.toThrow(/has already run: its source can be read once/);
  });

  it("starts no batch after an abort with a full buffer, and reports the buffered items as unprocessed", async () => {
    const controller = new AbortController();
    const release = gate();
    const started = gate();
    let pulls = 0;
    let processCalls = 0;
    function* many() {
      for (let item = 0; item < 1_000; item++) {
        pulls++;
        yield item;
      }
    }
    const deadLetters = { add: vi.fn() };
    const stream = createStreamProcessor({
      source: many(),
      bufferSize: 20,
      batch: { size: 5, maxWaitMs: 1_000 },
      deadLetters,
      process: async (batch: number[]) => {
        processCalls++;
        started.open();
        await release.opened;
        return batch;
      },
      sink: () => {},
    });
    const running = stream.run({ signal: controller.signal });
    await started.opened;
    // The first batch is in process and the producer has filled the buffer behind it.
    await vi.waitFor(() => expect(pulls).toBe(25));
    controller.abort();
    release.open();
    const report = await running;
    expect(processCalls).toBe(1);
    expect(report).toMatchObject({ status: "aborted", pulled: 25, sunk: 5, deadLettered: 0, unprocessed: 20, batches: 1 });
    expect(report.sunk + report.deadLettered + report.unprocessed).toBe(pulls);
    expect(deadLetters.add).not.toHaveBeenCalled();
  });

  it("counts a batch cut short by the abort as unprocessed, not as a failure", async () => {
    const controller = new AbortController();
    const deadLetters = { add: vi.fn() };
    const alerts: StreamAlert[] = [];
    const started = gate();
    const stream = createStreamProcessor({
      source: ["a", "b", "c", "d"],
      bufferSize: 10,
      batch: { size: 2, maxWaitMs: 1_000 },
      deadLetters,
      onAlert: (alert) => alerts.push(alert),
      process: () => {
        started.open();
        return new Promise<string[]>((_, reject) => controller.signal.addEventListener("abort", () => reject(new Error("cancelled"))));
      },
      sink: () => {},
    });
    const running = stream.run({ signal: controller.signal });
    await started.opened;
    controller.abort();
    const report = await running;
    // The batch in process (2 items) and whatever the producer had buffered by then: all pulled, none failed.
    expect(report).toMatchObject({ status: "aborted", sunk: 0, deadLettered: 0, batches: 1 });
    expect(report.pulled).toBeGreaterThanOrEqual(2);
    expect(report.unprocessed).toBe(report.pulled);
    expect(deadLetters.add).not.toHaveBeenCalled();
    expect(alerts).toEqual([]);
  });

  it("sinks every item pulled before the source failed, then reports the source's failure", async () => {
    const seen: number[] = [];
    async function* broken() {
      yield* [1, 2, 3];
      throw new Error("connection reset");
    }
    const stream = createStreamProcessor({ name: "feed", source: broken(), bufferSize: 10, batch: { size: 2, maxWaitMs: 5 }, sink: (batch: number[]) => void seen.push(...batch) });
    await expect(stream.run()).rejects.toThrow('Stream "feed": the source failed after 3 items: connection reset. Every item pulled before the failure was processed');
    expect(seen).toEqual([1, 2, 3]);
  });

  it("rejects a buffer or batch without a positive size", () => {
    expect(() => createStreamProcessor({ source: [], bufferSize: 0, batch: { size: 0, maxWaitMs: 10 }, sink: () => {} })).toThrow(DefinitionError);
  });
});
