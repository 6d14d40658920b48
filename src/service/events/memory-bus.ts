import { EventEmitter } from "eventemitter3";
import type { ServiceEvent, ServiceEventBus, StoredEvent } from "./types.ts";
import { endsStream } from "./types.ts";

export interface MemoryEventBusOptions {
  /** Events kept per run (default 10,000): older ones are dropped, and a reader asking for them starts at the oldest kept. */
  maxEventsPerRun?: number;
  /** How long a stopped run's events stay readable (default 1 h); then they are dropped. */
  endedRunTtlMs?: number;
  /** How long `read` waits before asking `settled` (default 1 s). */
  idleCheckMs?: number;
  now?: () => number;
}

interface Log {
  entries: Array<{ seq: number; event: ServiceEvent }>;
  next: number;
  /** When its last event stopped the run (for the TTL); undefined while it runs. */
  endedAt: number | undefined;
  waiters: Set<() => void>;
}

/**
 * The event bus of one `conclave serve` process: each run's events numbered from 1 (the SSE ids),
 * bounded per run and dropped a while after the run stops, so a long-lived server does not grow
 * without end. Subscribers (the metrics) get every event as it is published.
 */
export class MemoryEventBus implements ServiceEventBus {
  private readonly logs = new Map<string, Log>();
  private readonly emitter = new EventEmitter<{ event: [string, ServiceEvent] }>();
  private readonly maxEvents: number;
  private readonly ttlMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private lastSweep = 0;
  private closed = false;

  constructor(options: MemoryEventBusOptions = {}) {
    this.maxEvents = Math.max(1, options.maxEventsPerRun ?? 10_000);
    this.ttlMs = options.endedRunTtlMs ?? 3_600_000;
    this.idleMs = options.idleCheckMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  async publish(runId: string, event: ServiceEvent): Promise<void> {
    this.sweep();
    const log = this.logOf(runId);
    log.entries.push({ seq: ++log.next, event });
    if (log.entries.length > this.maxEvents) log.entries.splice(0, log.entries.length - this.maxEvents);
    log.endedAt = endsStream(event) ? this.now() : undefined;
    this.wake(log);
    this.emitter.emit("event", runId, event);
  }

  subscribe(listener: (runId: string, event: ServiceEvent) => void): () => void {
    // A throwing subscriber must not stop the others, nor reject publish (the server calls it with `void`: an unhandled rejection).
    const guarded = (runId: string, event: ServiceEvent) => {
      try {
        listener(runId, event);
      } catch {
        // ignored, as the Redis bus does
      }
    };
    this.emitter.on("event", guarded);
    return () => void this.emitter.off("event", guarded);
  }

  /** Whether `value` can be a `Last-Event-ID` of this bus (a whole number). */
  async lastEvent(runId: string): Promise<ServiceEvent | undefined> {
    return this.logs.get(runId)?.entries.at(-1)?.event;
  }

  isEventId(value: string): boolean {
    return /^\d{1,15}$/.test(value);
  }

  /** How many runs have events kept (for tests and the operator). */
  get runCount(): number {
    return this.logs.size;
  }

  async *read(runId: string, after: string | undefined, signal: AbortSignal, settled?: () => Promise<boolean>): AsyncIterable<StoredEvent> {
    let last = after === undefined ? 0 : Number(after);
    try {
      while (!signal.aborted) {
        const log = this.logOf(runId);
        const fresh = log.entries.filter((entry) => entry.seq > last);
        for (const entry of fresh) {
          last = entry.seq;
          yield { id: String(entry.seq), event: entry.event };
          if (signal.aborted) return;
        }
        const tail = log.entries.at(-1);
        if ((tail && endsStream(tail.event) && tail.seq <= last) || this.closed) return;
        // Published while the consumer held the last event (no waiter then to wake): read it now, not after the idle check.
        if (tail && tail.seq > last) continue;
        const woken = await this.waitFor(log, signal);
        if (!woken && !log.entries.some((entry) => entry.seq > last) && settled && (await settled())) return;
      }
    } finally {
      // A reader of a run with no events (never published, or swept) must not leave an empty log that the sweep never drops.
      const log = this.logs.get(runId);
      if (log && log.entries.length === 0 && log.waiters.size === 0) this.logs.delete(runId);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const log of this.logs.values()) this.wake(log);
    this.emitter.removeAllListeners();
  }

  private logOf(runId: string): Log {
    let log = this.logs.get(runId);
    if (!log) this.logs.set(runId, (log = { entries: [], next: 0, endedAt: undefined, waiters: new Set() }));
    return log;
  }

  /** Drops runs stopped longer ago than the TTL (at most once a minute, on publish). */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < Math.min(60_000, this.ttlMs)) return;
    this.lastSweep = now;
    for (const [runId, log] of this.logs) {
      if (log.endedAt !== undefined && now - log.endedAt >= this.ttlMs && log.waiters.size === 0) this.logs.delete(runId);
    }
  }

  private wake(log: Log): void {
    for (const waiter of [...log.waiters]) waiter();
  }

  /** Resolves true when an event arrives, false after the idle check interval. */
  private waitFor(log: Log, signal: AbortSignal): Promise<boolean> {
    return new Promise((done) => {
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        log.waiters.delete(wake);
        signal.removeEventListener("abort", abort);
        done(woken);
      };
      const wake = () => finish(true);
      const abort = () => finish(true);
      const timer = setTimeout(() => finish(false), this.idleMs);
      log.waiters.add(wake);
      signal.addEventListener("abort", abort, { once: true });
    });
  }
}
