import { Redis } from "ioredis";
import type { ServiceEvent, ServiceEventBus, StoredEvent } from "./types.ts";
import { ServiceEventSchema, endsStream } from "./types.ts";

export interface RedisEventBusOptions {
  /** A Redis URL (the bus opens and closes its connections) or a connection to share (it duplicates it for blocking reads). */
  redis: string | Redis;
  /** Key namespace (default "conclave:conclave-runs:conclave", under the run queue's keys but clear of BullMQ's own `<prefix>:<queue>:events`). */
  namespace?: string;
  /** Events kept per run stream, approximately (XADD MAXLEN ~; default 10,000). */
  maxEventsPerRun?: number;
  /** Events kept in the all-runs stream, approximately (default 100,000). */
  maxEvents?: number;
  /** How long a stopped run's stream is kept (default 24 h); a new event clears the expiry. */
  endedRunTtlSec?: number;
  /** How long a reader waits for a wake-up before looking again (default 1 s). */
  idleCheckMs?: number;
  /** Applied to every event's JSON before it leaves the process (the workspace's secret redactor). */
  redact?: (text: string) => string;
}

type Entry = [id: string, fields: string[]];

/**
 * Run events on Redis streams, so every process sees every run whichever worker runs it:
 * `<ns>:events:<runId>` holds one run's events (the SSE endpoint replays it from a `Last-Event-ID`,
 * which is the stream entry id), and `<ns>:events` holds every run's (fields `run` and `event`) for
 * subscribers — the metrics of each `conclave serve`, and any other service (`XREAD BLOCK 0 STREAMS
 * <ns>:events $`). Both are written in one MULTI, trimmed approximately, and a stopped run's stream
 * expires. One blocking connection per process follows the all-runs stream and wakes local readers.
 */
export class RedisEventBus implements ServiceEventBus {
  readonly namespace: string;
  private readonly redis: Redis;
  private readonly owned: boolean;
  private blocking: Redis | undefined;
  private readonly listeners = new Set<(runId: string, event: ServiceEvent) => void>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private following: Promise<void> | undefined;
  private closed = false;
  private readonly options: Required<Omit<RedisEventBusOptions, "redis" | "namespace">>;

  constructor(options: RedisEventBusOptions) {
    this.owned = typeof options.redis === "string";
    this.redis = typeof options.redis === "string" ? new Redis(options.redis, { maxRetriesPerRequest: 3, lazyConnect: false }) : options.redis;
    this.namespace = options.namespace ?? "conclave:conclave-runs:conclave";
    this.options = {
      maxEventsPerRun: options.maxEventsPerRun ?? 10_000,
      maxEvents: options.maxEvents ?? 100_000,
      endedRunTtlSec: options.endedRunTtlSec ?? 86_400,
      idleCheckMs: options.idleCheckMs ?? 1_000,
      redact: options.redact ?? ((text) => text),
    };
  }

  /** The all-runs stream's key. */
  get streamKey(): string {
    return `${this.namespace}:events`;
  }

  /** One run's stream key. */
  runKey(runId: string): string {
    return `${this.namespace}:events:${runId}`;
  }

  async publish(runId: string, event: ServiceEvent): Promise<void> {
    const data = this.options.redact(JSON.stringify(event));
    const key = this.runKey(runId);
    const multi = this.redis.multi().xadd(key, "MAXLEN", "~", String(this.options.maxEventsPerRun), "*", "event", data).xadd(this.streamKey, "MAXLEN", "~", String(this.options.maxEvents), "*", "run", runId, "event", data);
    if (endsStream(event)) multi.expire(key, this.options.endedRunTtlSec);
    else multi.persist(key);
    await multi.exec();
  }

  subscribe(listener: (runId: string, event: ServiceEvent) => void): () => void {
    this.listeners.add(listener);
    this.follow();
    return () => this.listeners.delete(listener);
  }

  /** Whether `value` can be a `Last-Event-ID` here (a stream entry id, `<ms>-<seq>`). */
  async lastEvent(runId: string): Promise<ServiceEvent | undefined> {
    const tail = ((await this.redis.xrevrange(this.runKey(runId), "+", "-", "COUNT", 1)) as Entry[])[0];
    return tail ? parseFields(tail[1]) : undefined;
  }

  isEventId(value: string): boolean {
    return /^\d{1,20}-\d{1,20}$/.test(value);
  }

  async *read(runId: string, after: string | undefined, signal: AbortSignal, settled?: () => Promise<boolean>): AsyncIterable<StoredEvent> {
    this.follow();
    const key = this.runKey(runId);
    let last = after;
    while (!signal.aborted && !this.closed) {
      const entries = (await this.redis.xrange(key, last ? `(${last}` : "-", "+", "COUNT", 500)) as Entry[];
      for (const [id, fields] of entries) {
        last = id;
        const event = parseFields(fields);
        if (event) yield { id, event };
        if (signal.aborted) return;
      }
      if (entries.length === 500) continue;
      const tail = ((await this.redis.xrevrange(key, "+", "-", "COUNT", 1)) as Entry[])[0];
      if (tail && tail[0] === last) {
        const event = parseFields(tail[1]);
        if (event && endsStream(event)) return;
      }
      // Added while the consumer held an event (its wake-up came with no waiter): read it now, not after the idle check.
      if (tail && isAfter(tail[0], last)) continue;
      const woken = await this.waitFor(runId, signal);
      if (!woken && settled && !(await this.hasAfter(key, last)) && (await settled())) return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
    this.blocking?.disconnect();
    await this.following?.catch(() => undefined);
    if (this.owned) this.redis.disconnect();
  }

  private async hasAfter(key: string, last: string | undefined): Promise<boolean> {
    return ((await this.redis.xrange(key, last ? `(${last}` : "-", "+", "COUNT", 1)) as Entry[]).length > 0;
  }

  /** Follows the all-runs stream on a blocking connection: feeds subscribers, wakes this process's readers. */
  private follow(): void {
    if (this.following || this.closed) return;
    const blocking = (this.blocking = this.redis.duplicate({ maxRetriesPerRequest: null }));
    this.following = (async () => {
      // Start from the current end, by id, so nothing published between two reads is missed.
      let last: string | undefined;
      while (!this.closed && last === undefined) {
        try {
          last = ((await this.redis.xrevrange(this.streamKey, "+", "-", "COUNT", 1)) as Entry[])[0]?.[0] ?? "0-0";
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      while (!this.closed && last !== undefined) {
        let batches: Array<[string, Entry[]]> | null;
        try {
          batches = (await blocking.xread("COUNT", 1000, "BLOCK", this.options.idleCheckMs, "STREAMS", this.streamKey, last)) as Array<[string, Entry[]]> | null;
        } catch {
          if (this.closed) return;
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        for (const [, entries] of batches ?? []) {
          for (const [id, fields] of entries) {
            last = id;
            const runId = fieldOf(fields, "run");
            const event = parseFields(fields);
            if (!runId || !event) continue;
            for (const listener of this.listeners) {
              try {
                listener(runId, event);
              } catch {
                // A subscriber's failure must not stop the others or the stream.
              }
            }
            for (const wake of [...(this.waiters.get(runId) ?? [])]) wake();
          }
        }
      }
    })();
  }

  /** Resolves true when the run gets an event (or the reader stops), false after the idle interval. */
  private waitFor(runId: string, signal: AbortSignal): Promise<boolean> {
    return new Promise((done) => {
      let set = this.waiters.get(runId);
      if (!set) this.waiters.set(runId, (set = new Set()));
      const waiters = set;
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (!waiters.size) this.waiters.delete(runId);
        signal.removeEventListener("abort", abort);
        done(woken);
      };
      const wake = () => finish(true);
      const abort = () => finish(true);
      const timer = setTimeout(() => finish(false), this.options.idleCheckMs);
      waiters.add(wake);
      signal.addEventListener("abort", abort, { once: true });
    });
  }
}

/** Whether stream entry id `id` comes after `last` (any id does when nothing was read yet). */
function isAfter(id: string, last: string | undefined): boolean {
  if (last === undefined) return true;
  const [ms = 0n, seq = 0n] = id.split("-").map(BigInt);
  const [lastMs = 0n, lastSeq = 0n] = last.split("-").map(BigInt);
  return ms > lastMs || (ms === lastMs && seq > lastSeq);
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let index = 0; index < fields.length - 1; index += 2) if (fields[index] === name) return fields[index + 1];
  return undefined;
}

/** The entry's event, or undefined for an entry some other writer put there in another shape. */
function parseFields(fields: string[]): ServiceEvent | undefined {
  const data = fieldOf(fields, "event");
  if (data === undefined) return undefined;
  try {
    const parsed = ServiceEventSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
