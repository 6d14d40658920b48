import { describe, expect, it } from "vitest";
import { busContract, newRunId, nodeStart, readAll, status } from "./bus-contract.ts";
import { MemoryEventBus } from "./memory-bus.ts";

describe("MemoryEventBus", () => {
  describe("the ServiceEventBus contract", () => {
    busContract((options) => new MemoryEventBus({ idleCheckMs: options?.idleCheckMs ?? 50 }));
  });

  it("keeps only the last maxEventsPerRun events; a reader from the start (or from a dropped id) gets those, ids still increasing", async () => {
    const bus = new MemoryEventBus({ maxEventsPerRun: 3, idleCheckMs: 50 });
    const run = newRunId();
    const published = [status(run, "running"), nodeStart(run, "a", 1), nodeStart(run, "b", 2), nodeStart(run, "c", 3), nodeStart(run, "d", 4), status(run, "done")];
    for (const event of published) await bus.publish(run, event);
    const fromStart = await readAll(bus, run, undefined);
    expect(fromStart.timedOut).toBe(false);
    expect(fromStart.events).toEqual([
      { id: "4", event: published[3] },
      { id: "5", event: published[4] },
      { id: "6", event: published[5] },
    ]);
    expect((await readAll(bus, run, "1")).events.map((stored) => stored.id)).toEqual(["4", "5", "6"]);
    expect((await readAll(bus, run, "4")).events.map((stored) => stored.id)).toEqual(["5", "6"]);
    // A decision continues it: numbering goes on from 7, and the window slides.
    await bus.publish(run, status(run, "queued"));
    const after = await readAll(bus, run, undefined, { timeoutMs: 200 });
    expect(after.events.map((stored) => stored.id)).toEqual(["5", "6", "7"]);
    await bus.close();
  });

  it("drops a stopped run's events after endedRunTtlMs, and keeps a running one", async () => {
    let now = 1_000_000;
    const bus = new MemoryEventBus({ endedRunTtlMs: 1_000, idleCheckMs: 50, now: () => now });
    const ended = newRunId();
    const running = newRunId();
    const resumed = newRunId();
    await bus.publish(ended, status(ended, "running"));
    await bus.publish(ended, status(ended, "done"));
    await bus.publish(running, status(running, "running"));
    await bus.publish(resumed, status(resumed, "interrupted"));
    now += 500;
    await bus.publish(resumed, status(resumed, "queued")); // a decision: no longer stopped
    expect(bus.runCount).toBe(3);

    now += 499; // 999 ms after "done": not yet
    await bus.publish(running, nodeStart(running, "a", 1));
    expect(bus.runCount).toBe(3);
    expect((await readAll(bus, ended, undefined)).events).toHaveLength(2);

    now += 1; // 1,000 ms after "done": the next publish sweeps it
    await bus.publish(running, nodeStart(running, "b", 2));
    expect(bus.runCount).toBe(2);
    // Its events are gone: a reader finds none and ends once the run is known to have ended.
    expect(await readAll(bus, ended, undefined, { settled: async () => true })).toEqual({ events: [], timedOut: false });
    expect(bus.runCount).toBe(2);

    now += 60_000; // the running (and the resumed) runs are kept however long they run
    await bus.publish(running, nodeStart(running, "c", 3));
    expect(bus.runCount).toBe(2);
    expect((await readAll(bus, running, undefined, { settled: async () => true })).events).toHaveLength(4);
    expect((await readAll(bus, resumed, undefined, { settled: async () => true })).events).toHaveLength(2);
    await bus.close();
  });

  it("a reader of a run it has no events for leaves nothing behind", async () => {
    const bus = new MemoryEventBus({ idleCheckMs: 20 });
    for (let index = 0; index < 5; index++) {
      expect(await readAll(bus, newRunId(), undefined, { settled: async () => true })).toEqual({ events: [], timedOut: false });
    }
    // Nor one that is aborted while it waits.
    expect(await readAll(bus, newRunId(), undefined, { timeoutMs: 100 })).toEqual({ events: [], timedOut: true });
    expect(bus.runCount).toBe(0);
    await bus.close();
  });
});
