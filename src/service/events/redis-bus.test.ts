import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { busContract, newRunId, nodeStart, readAll, sleep, status, within } from "./bus-contract.ts";
import { RedisEventBus, type RedisEventBusOptions } from "./redis-bus.ts";
import type { ServiceEvent, StoredEvent } from "./types.ts";

const url = process.env.REDIS_URL ?? "";
// Every run of this file writes under its own namespace, so it never touches anyone else's keys.
const namespace = `conclave-test:${randomUUID()}:events-bus`;

describe.skipIf(!url)(`RedisEventBus on Redis${url ? "" : " — SKIPPED: REDIS_URL is unset"}`, () => {
  const client = url ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  const buses: RedisEventBus[] = [];
  const make = (options: Partial<RedisEventBusOptions> = {}): RedisEventBus => {
    const bus = new RedisEventBus({ redis: url, namespace, idleCheckMs: 50, ...options });
    buses.push(bus);
    return bus;
  };
  /** Whether a reader of the run is waiting on this bus for a wake-up (so a test publishes only once it is). */
  const waiting = (bus: RedisEventBus, runId: string): boolean => (bus as unknown as { waiters: Map<string, Set<unknown>> }).waiters.has(runId);

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    if (!client) return;
    const keys = await client.keys(`${namespace}*`);
    if (keys.length > 0) await client.del(...keys);
    expect(await client.keys(`${namespace}*`)).toEqual([]);
    await client.quit();
  });

  describe("the ServiceEventBus contract", () => {
    busContract((options) => make({ idleCheckMs: options?.idleCheckMs ?? 50 }));
  });

  it("a worker's bus publishes, a server's bus (another connection) reads, follows and subscribes", async () => {
    const worker = make();
    // A long idle check: the server's reader must be woken by its follower, not find the events by polling.
    const server = make({ idleCheckMs: 3_000 });
    const run = newRunId();
    const subscribed: ServiceEvent[] = [];
    server.subscribe((runId, event) => runId === run && subscribed.push(event));
    // The server's follower has started once it sees an event it publishes itself.
    const warmUp = newRunId();
    const warmed: string[] = [];
    server.subscribe((runId) => void (runId === warmUp && warmed.push(runId)));
    await server.publish(warmUp, status(warmUp, "queued"));
    await vi.waitFor(() => expect(warmed).toHaveLength(1), { timeout: 3_000, interval: 10 });

    await worker.publish(run, status(run, "queued"));
    const controller = new AbortController();
    const reader = server.read(run, undefined, controller.signal)[Symbol.asyncIterator]();
    try {
      const first = await within(reader.next(), 1_000);
      expect(first).toMatchObject({ done: false, value: { event: status(run, "queued") } });
      const queuedId = (first as IteratorResult<StoredEvent>).value.id;
      expect(server.isEventId(queuedId)).toBe(true);
      const live = reader.next();
      await vi.waitFor(() => expect(waiting(server, run)).toBe(true), { timeout: 1_000, interval: 5 });
      const published = Date.now();
      await worker.publish(run, status(run, "running", { worker: "worker-host:42", attempt: 1 }));
      expect(await within(live, 1_000)).toMatchObject({ done: false, value: { event: status(run, "running", { worker: "worker-host:42", attempt: 1 }) } });
      expect(Date.now() - published).toBeLessThan(1_000);
      await worker.publish(run, nodeStart(run, "plan"));
      await worker.publish(run, status(run, "done"));
      const rest: ServiceEvent[] = [];
      for (;;) {
        const next = await within(reader.next(), 1_000);
        if (next === "timeout" || next.done) {
          expect(next).not.toBe("timeout");
          break;
        }
        rest.push(next.value.event);
      }
      expect(rest).toEqual([nodeStart(run, "plan"), status(run, "done")]);
      // An id the worker's stream gave is a Last-Event-ID the server resumes from.
      const resumed = await readAll(server, run, queuedId);
      expect(resumed.timedOut).toBe(false);
      expect(resumed.events.map((stored) => stored.event.type)).toEqual(["run-status", "node-start", "run-status"]);
    } finally {
      controller.abort();
    }
    await vi.waitFor(() => expect(subscribed).toHaveLength(4), { timeout: 3_000, interval: 10 });
    expect(subscribed).toEqual([status(run, "queued"), status(run, "running", { worker: "worker-host:42", attempt: 1 }), nodeStart(run, "plan"), status(run, "done")]);
  });

  it("a stopped run's stream gets a TTL, and a new non-terminal event clears it", async () => {
    const bus = make({ endedRunTtlSec: 120 });
    const run = newRunId();
    await bus.publish(run, status(run, "running"));
    expect(await client!.ttl(bus.runKey(run))).toBe(-1);
    await bus.publish(run, status(run, "interrupted"));
    const ttl = await client!.ttl(bus.runKey(run));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
    await bus.publish(run, status(run, "queued"));
    expect(await client!.ttl(bus.runKey(run))).toBe(-1);
    await bus.publish(run, status(run, "done"));
    expect(await client!.ttl(bus.runKey(run))).toBeGreaterThan(0);
    // The all-runs stream is trimmed, never expired.
    expect(await client!.ttl(bus.streamKey)).toBe(-1);
  });

  it("redacts an event before it leaves the process: neither stream holds the secret", async () => {
    const secret = "sk-live-0123456789abcdef";
    const bus = make({ redact: (text) => text.replaceAll(secret, "[REDACTED]") });
    const run = newRunId();
    const subscribed: ServiceEvent[] = [];
    bus.subscribe((runId, event) => runId === run && subscribed.push(event));
    await bus.publish(run, status(run, "running"));
    await bus.publish(run, status(run, "failed", { error: `provider rejected key ${secret}` }));

    const raw = JSON.stringify(await client!.xrange(bus.runKey(run), "-", "+"));
    expect(raw).toContain("[REDACTED]");
    expect(raw).not.toContain(secret);
    const all = JSON.stringify((await client!.xrange(bus.streamKey, "-", "+")).filter(([, fields]) => fields.includes(run)));
    expect(all).toContain("[REDACTED]");
    expect(all).not.toContain(secret);

    const { events } = await readAll(bus, run, undefined);
    expect(events.at(-1)!.event).toEqual(status(run, "failed", { error: "provider rejected key [REDACTED]" }));
    await vi.waitFor(() => expect(subscribed).toHaveLength(2), { timeout: 3_000, interval: 10 });
    expect(JSON.stringify(subscribed)).not.toContain(secret);
  });

  it("skips entries some other writer put in the streams in another shape", async () => {
    const bus = make();
    const run = newRunId();
    const subscribed: ServiceEvent[] = [];
    bus.subscribe((runId, event) => runId === run && subscribed.push(event));
    await bus.publish(run, status(run, "running"));
    const key = bus.runKey(run);
    await client!.xadd(key, "*", "note", "hello");
    await client!.xadd(key, "*", "event", "not json {");
    await client!.xadd(key, "*", "event", JSON.stringify({ kind: "no type" }));
    await client!.xadd(key, "*", "event", "42");
    await client!.xadd(bus.streamKey, "*", "event", JSON.stringify(status(run, "cancelled"))); // no run field
    await client!.xadd(bus.streamKey, "*", "run", run, "event", "}{");
    await client!.xadd(bus.streamKey, "*", "run", run);
    await bus.publish(run, nodeStart(run, "a"));
    await bus.publish(run, status(run, "done"));

    const { events, timedOut } = await readAll(bus, run, undefined);
    expect(timedOut).toBe(false);
    expect(events.map((stored) => stored.event)).toEqual([status(run, "running"), nodeStart(run, "a"), status(run, "done")]);
    // The ids still order the kept events, past the skipped ones.
    expect((await readAll(bus, run, events[0]!.id)).events.map((stored) => stored.event)).toEqual([nodeStart(run, "a"), status(run, "done")]);
    await vi.waitFor(() => expect(subscribed).toHaveLength(3), { timeout: 3_000, interval: 10 });
    expect(subscribed).toEqual([status(run, "running"), nodeStart(run, "a"), status(run, "done")]);
  });

  it("close() returns promptly while a reader waits and its follower blocks on Redis", async () => {
    const bus = make({ idleCheckMs: 5_000 });
    const run = newRunId();
    const reading = readAll(bus, run, undefined, { timeoutMs: 10_000 });
    await vi.waitFor(() => expect(waiting(bus, run)).toBe(true), { timeout: 1_000, interval: 5 });
    await sleep(50); // the follower is inside its XREAD BLOCK 5000
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(500);
    expect(await within(reading, 500)).toEqual({ events: [], timedOut: false });
  });
});
