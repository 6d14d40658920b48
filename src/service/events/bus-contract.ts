import { randomUUID } from "node:crypto";
import { afterEach, expect, it, vi } from "vitest";
import type { RunStatus, RunStatusEvent, ServiceEvent, ServiceEventBus, StoredEvent } from "./types.ts";

/**
 * What every ServiceEventBus must do, whichever store it uses: `busContract` defines the common
 * tests inside the caller's `describe`, run against the in-process bus and the Redis one.
 */

export interface ContractBusOptions {
  /** How long a reader waits before asking `settled` (the contract passes a long one to check a wake-up does not wait for it). */
  idleCheckMs?: number;
}

/** A run id of its own for each test, so tests sharing one Redis namespace never see each other's events. */
export const newRunId = (): string => `run-${randomUUID()}`;

export function status(runId: string, value: RunStatus, extra: Partial<RunStatusEvent> = {}): RunStatusEvent {
  return { type: "run-status", serviceRunId: runId, graph: "team", status: value, at: 1_700_000_000_000, ...extra };
}

export function nodeStart(runId: string, node: string, step = 1): ServiceEvent {
  return { type: "node-start", runId: `attempt-of-${runId}`, threadId: `thread-${runId}`, at: 1_700_000_000_000 + step, node, step, namespace: "" };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The promise's value, or "timeout" when it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads until the stream ends by itself, or aborts it after `timeoutMs` (then `timedOut` is true). */
export async function readAll(bus: ServiceEventBus, runId: string, after: string | undefined, options: { settled?: () => Promise<boolean>; timeoutMs?: number } = {}): Promise<{ events: StoredEvent[]; timedOut: boolean }> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs ?? 2_000);
  const events: StoredEvent[] = [];
  try {
    for await (const stored of bus.read(runId, after, controller.signal, options.settled)) events.push(stored);
  } finally {
    clearTimeout(timer);
  }
  return { events, timedOut };
}

/** Orders ids of either bus: "12" (memory) or "1700000000000-3" (a Redis stream entry). */
export function compareIds(a: string, b: string): number {
  const left = a.split("-").map(BigInt);
  const right = b.split("-").map(BigInt);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const x = left[index] ?? 0n;
    const y = right[index] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function busContract(makeBus: (options?: ContractBusOptions) => ServiceEventBus): void {
  const open: ServiceEventBus[] = [];
  const bus = (options?: ContractBusOptions): ServiceEventBus => {
    const made = makeBus(options);
    open.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((made) => made.close()));
  });

  it("gives increasing ids that its own isEventId accepts, and rejects garbage ids", async () => {
    const events = bus();
    const run = newRunId();
    const published = [status(run, "queued"), status(run, "running"), nodeStart(run, "a", 1), nodeStart(run, "b", 2), nodeStart(run, "c", 3), status(run, "done")];
    for (const event of published) await events.publish(run, event);
    const { events: read, timedOut } = await readAll(events, run, undefined);
    expect(timedOut).toBe(false);
    expect(read.map((stored) => stored.event)).toEqual(published);
    const ids = read.map((stored) => stored.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (let index = 1; index < ids.length; index++) expect(compareIds(ids[index - 1]!, ids[index]!)).toBe(-1);
    for (const id of ids) expect(events.isEventId(id)).toBe(true);
    for (const garbage of ["", "abc", "-1", "1.5", " 1", "1 ", "1e3", "x-1", "1-", "-1-1", "1-2-3", "1;DROP", "../../etc/passwd", "9".repeat(50), `${ids[0]}\n${ids[1]}`]) {
      expect(events.isEventId(garbage), garbage).toBe(false);
    }
  });

  it("read from the start replays every kept event, then follows live ones", async () => {
    const events = bus();
    const run = newRunId();
    await events.publish(run, status(run, "queued"));
    await events.publish(run, status(run, "running"));
    const controller = new AbortController();
    const reader = events.read(run, undefined, controller.signal)[Symbol.asyncIterator]();
    try {
      expect((await within(reader.next(), 1_000)) as IteratorResult<StoredEvent>).toMatchObject({ done: false, value: { event: status(run, "queued") } });
      expect((await within(reader.next(), 1_000)) as IteratorResult<StoredEvent>).toMatchObject({ done: false, value: { event: status(run, "running") } });
      const live = reader.next();
      await sleep(30); // the reader is now waiting for new events
      await events.publish(run, nodeStart(run, "plan"));
      expect(await within(live, 1_000)).toMatchObject({ done: false, value: { event: nodeStart(run, "plan") } });
      const next = reader.next();
      await events.publish(run, status(run, "done"));
      expect(await within(next, 1_000)).toMatchObject({ done: false, value: { event: status(run, "done") } });
      expect(await within(reader.next(), 1_000)).toEqual({ done: true, value: undefined });
    } finally {
      controller.abort();
    }
  });

  it("read after an id starts strictly after it", async () => {
    const events = bus();
    const run = newRunId();
    const published = [status(run, "running"), nodeStart(run, "a", 1), nodeStart(run, "b", 2), nodeStart(run, "c", 3), status(run, "done")];
    for (const event of published) await events.publish(run, event);
    const all = await readAll(events, run, undefined);
    expect(all.events).toHaveLength(5);
    const from = await readAll(events, run, all.events[1]!.id);
    expect(from.timedOut).toBe(false);
    expect(from.events).toEqual(all.events.slice(2));
    // After the last event, a finished run's stream has nothing more and ends at once.
    const fromLast = await readAll(events, run, all.events[4]!.id);
    expect(fromLast).toEqual({ events: [], timedOut: false });
  });

  for (const terminal of ["done", "failed", "cancelled", "interrupted"] as const) {
    it(`ends the stream after a "${terminal}" run-status with nothing after it`, async () => {
      const events = bus({ idleCheckMs: 5_000 });
      const run = newRunId();
      const published = [status(run, "running"), nodeStart(run, "a"), status(run, terminal, terminal === "failed" ? { error: "boom" } : {})];
      for (const event of published) await events.publish(run, event);
      const started = Date.now();
      // No settled callback: only the terminal status can end it (else it would wait until the timeout).
      const { events: read, timedOut } = await readAll(events, run, undefined, { timeoutMs: 1_500 });
      expect(timedOut).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(read.map((stored) => stored.event)).toEqual(published);
    });
  }

  it("does not end at a non-terminal status: a reader after running waits for more", async () => {
    const events = bus();
    const run = newRunId();
    await events.publish(run, status(run, "queued"));
    await events.publish(run, status(run, "running"));
    const result = await readAll(events, run, undefined, { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.events).toHaveLength(2);
  });

  it("stops a reader caught up at interrupted; after a decision queues the run, a reader from the interrupted id follows it to done", async () => {
    const events = bus();
    const run = newRunId();
    await events.publish(run, status(run, "queued"));
    await events.publish(run, status(run, "running"));
    await events.publish(run, status(run, "interrupted"));
    const first = await readAll(events, run, undefined);
    expect(first.timedOut).toBe(false);
    expect(first.events.map((stored) => stored.event)).toEqual([status(run, "queued"), status(run, "running"), status(run, "interrupted")]);
    const interruptedId = first.events[2]!.id;

    // The decision: the run is queued again. A client reconnecting with the interrupted id follows it.
    await events.publish(run, status(run, "queued", { at: 1_700_000_000_100 }));
    const controller = new AbortController();
    const reader = events.read(run, interruptedId, controller.signal)[Symbol.asyncIterator]();
    try {
      expect(await within(reader.next(), 1_000)).toMatchObject({ done: false, value: { event: status(run, "queued", { at: 1_700_000_000_100 }) } });
      const resumed = [status(run, "running", { resumed: true, attempt: 1 }), nodeStart(run, "after-approval", 7), status(run, "done")];
      const seen: ServiceEvent[] = [];
      const following = (async () => {
        for (;;) {
          const next = await reader.next();
          if (next.done) return;
          seen.push(next.value.event);
        }
      })();
      await sleep(20);
      for (const event of resumed) await events.publish(run, event);
      expect(await within(following, 1_000)).not.toBe("timeout");
      expect(seen).toEqual(resumed);
    } finally {
      controller.abort();
    }
    // From the start, the interrupted status in the middle no longer ends the stream: it reads on to done.
    const whole = await readAll(events, run, undefined);
    expect(whole.timedOut).toBe(false);
    expect(whole.events.map((stored) => (stored.event as RunStatusEvent).status ?? stored.event.type)).toEqual(["queued", "running", "interrupted", "queued", "running", "node-start", "done"]);
  });

  it("a reader of a run with no events keeps waiting while settled says false, and ends when it says true", async () => {
    const events = bus({ idleCheckMs: 50 });
    const run = newRunId();
    let answers = 0;
    const settled = vi.fn(async () => ++answers >= 3);
    const { events: read, timedOut } = await readAll(events, run, undefined, { settled, timeoutMs: 2_000 });
    expect(timedOut).toBe(false);
    expect(read).toEqual([]);
    expect(settled).toHaveBeenCalledTimes(3);
  });

  it("a reader whose run's kept events stop without a terminal status ends after them once settled says so", async () => {
    const events = bus({ idleCheckMs: 50 });
    const run = newRunId();
    await events.publish(run, status(run, "running"));
    await events.publish(run, nodeStart(run, "a"));
    const { events: read, timedOut } = await readAll(events, run, undefined, { settled: async () => true });
    expect(timedOut).toBe(false);
    expect(read.map((stored) => stored.event)).toEqual([status(run, "running"), nodeStart(run, "a")]);
  });

  it("aborting the signal ends a waiting reader promptly, not at the next idle check", async () => {
    const events = bus({ idleCheckMs: 5_000 });
    const run = newRunId();
    await events.publish(run, status(run, "running"));
    const controller = new AbortController();
    const settled = vi.fn(async () => false);
    const read: StoredEvent[] = [];
    const reading = (async () => {
      for await (const stored of events.read(run, undefined, controller.signal, settled)) read.push(stored);
    })();
    await sleep(100);
    expect(read).toHaveLength(1);
    const aborted = Date.now();
    controller.abort();
    expect(await within(reading, 1_000)).not.toBe("timeout");
    expect(Date.now() - aborted).toBeLessThan(500);
    expect(settled).not.toHaveBeenCalled();
  });

  it("an event published while the consumer holds the previous one arrives without waiting for the idle check", async () => {
    const events = bus({ idleCheckMs: 5_000 });
    const run = newRunId();
    const controller = new AbortController();
    const reader = events.read(run, undefined, controller.signal)[Symbol.asyncIterator]();
    try {
      await events.publish(run, status(run, "running"));
      expect(await within(reader.next(), 1_000)).toMatchObject({ done: false, value: { event: status(run, "running") } });
      // The reader is suspended at its yield while the next event is published.
      await events.publish(run, nodeStart(run, "a"));
      await sleep(20);
      const started = Date.now();
      expect(await within(reader.next(), 1_000)).toMatchObject({ done: false, value: { event: nodeStart(run, "a") } });
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      controller.abort();
    }
  });

  it("close() ends a waiting reader and returns promptly", async () => {
    const events = bus({ idleCheckMs: 5_000 });
    const run = newRunId();
    const reading = (async () => {
      const read: StoredEvent[] = [];
      for await (const stored of events.read(run, undefined, new AbortController().signal)) read.push(stored);
      return read;
    })();
    await sleep(100);
    const started = Date.now();
    await events.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await within(reading, 500)).toEqual([]);
  });

  it("subscribe gets every published event of every run with its run id, in order per run", async () => {
    const events = bus();
    const runA = newRunId();
    const runB = newRunId();
    const got: Array<[string, ServiceEvent]> = [];
    events.subscribe((runId, event) => {
      if (runId === runA || runId === runB) got.push([runId, event]);
    });
    const published: Array<[string, ServiceEvent]> = [
      [runA, status(runA, "running")],
      [runB, status(runB, "running")],
      [runA, nodeStart(runA, "a", 1)],
      [runB, nodeStart(runB, "b", 1)],
      [runA, nodeStart(runA, "a", 2)],
      [runB, status(runB, "failed", { error: "x" })],
      [runA, status(runA, "done")],
    ];
    for (const [runId, event] of published) await events.publish(runId, event);
    await vi.waitFor(() => expect(got).toHaveLength(published.length), { timeout: 1_000, interval: 10 });
    expect(got.filter(([runId]) => runId === runA)).toEqual(published.filter(([runId]) => runId === runA));
    expect(got.filter(([runId]) => runId === runB)).toEqual(published.filter(([runId]) => runId === runB));
  });

  it("the unsubscribe function stops that listener and no other", async () => {
    const events = bus();
    const run = newRunId();
    const stopped: ServiceEvent[] = [];
    const kept: ServiceEvent[] = [];
    const unsubscribe = events.subscribe((runId, event) => runId === run && stopped.push(event));
    events.subscribe((runId, event) => runId === run && kept.push(event));
    await events.publish(run, status(run, "running"));
    await vi.waitFor(() => expect(stopped).toHaveLength(1), { timeout: 1_000, interval: 10 });
    unsubscribe();
    await events.publish(run, status(run, "done"));
    await vi.waitFor(() => expect(kept).toEqual([status(run, "running"), status(run, "done")]), { timeout: 1_000, interval: 10 });
    expect(stopped).toEqual([status(run, "running")]);
  });

  it("a throwing subscriber does not stop the others, nor the publish", async () => {
    const events = bus();
    const run = newRunId();
    const thrower = vi.fn((_runId: string, _event: ServiceEvent): void => {
      throw new Error("metrics broke");
    });
    const kept: ServiceEvent[] = [];
    events.subscribe(thrower);
    events.subscribe((runId, event) => runId === run && kept.push(event));
    await expect(events.publish(run, status(run, "running"))).resolves.toBeUndefined();
    await expect(events.publish(run, status(run, "done"))).resolves.toBeUndefined();
    await vi.waitFor(() => expect(kept).toEqual([status(run, "running"), status(run, "done")]), { timeout: 1_000, interval: 10 });
    // It stays subscribed: it was called for both events.
    expect(thrower.mock.calls.filter(([runId]) => runId === run)).toHaveLength(2);
    // The events are still readable after the subscriber threw.
    expect((await readAll(events, run, undefined)).events).toHaveLength(2);
  });
}
