import { ConfigError, RunAbortedError } from "../../errors.ts";
import type { LimitKind } from "./errors.ts";
import { RateLimitTimeoutError } from "./errors.ts";
import { KeyTable, readHeader } from "./keys.ts";
import { QuotaLedger } from "./quotas.ts";
import { TokenBucket, parseResetDuration } from "./token-bucket.ts";
import type { AcquireRequest, BucketView, LimitSpec, Priority, RateLimitSnapshot, RateLimiterOptions } from "./types.ts";

export type { AcquireRequest, BucketView, LimitSpec, Priority, RateLimitSnapshot, RateLimiterOptions } from "./types.ts";

const RANK: Record<Priority, number> = { high: 0, normal: 1, batch: 2 };
const DEFAULT_DEADLINE_MS = 60_000;
/** setTimeout fires at once for delays beyond 2^31-1 ms, which would turn a long wait into a busy loop. */
const MAX_TIMER_MS = 2_147_483_647;
/** Projections are float sums; a sub-microsecond difference must not refuse a caller or block a backfill. */
const TOLERANCE_MS = 1e-6;

interface Need {
  key: string;
  kind: LimitKind;
  pattern: string;
  bucket: TokenBucket;
  amount: number;
}

interface Waiter {
  keys: string[];
  tokens: number;
  rank: number;
  needs: Need[];
  startedAt: number;
  deadlineAt: number;
  deadlineMs: number;
  resolve: (result: { waitedMs: number }) => void;
  reject: (error: unknown) => void;
  detach: () => void;
}

interface KeyBuckets {
  pattern: string;
  requests?: TokenBucket;
  tokens?: TokenBucket;
}

/**
 * Request and token rate limits per key (model, user, tenant, …) with one fair queue. A call waits
 * until every one of its keys has room. Within a priority it is first come, first served: no later
 * call takes what an earlier one is waiting for, though it may use room the earlier one does not
 * need. One timer, set for the earliest moment a blocked call can go, drives the queue; no polling.
 */
export class RateLimiter {
  private readonly now: () => number;
  private readonly limits: KeyTable<LimitSpec>;
  private readonly quotas: QuotaLedger;
  private readonly buckets = new Map<string, KeyBuckets>();
  private readonly queue: Waiter[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RateLimiterOptions) {
    for (const [pattern, spec] of Object.entries(options.limits)) {
      for (const [field, value] of Object.entries(spec)) {
        if (value !== undefined && (!(value > 0) || !Number.isFinite(value))) throw new ConfigError(`Rate limit "${pattern}" has ${field} ${value}; use a positive number, or leave it out for no limit.`, { details: { pattern, field, value } });
      }
    }
    this.now = options.now ?? Date.now;
    this.limits = new KeyTable(options.limits);
    this.quotas = new QuotaLedger(options.quotas ?? {});
  }

  /**
   * Resolves once every key has room, having taken one request and `tokens` tokens from each.
   * Rejects with RateLimitTimeoutError as soon as the wait is known to pass the deadline, with
   * QuotaExceededError when a quota would be exceeded, and with RunAbortedError when `signal` aborts.
   */
  acquire(request: AcquireRequest): Promise<{ waitedMs: number }> {
    return new Promise((resolve, reject) => {
      const { signal } = request;
      if (signal?.aborted) return reject(new RunAbortedError(signal.reason));
      const keys = [...new Set(request.keys)];
      const tokens = request.tokens !== undefined && request.tokens > 0 ? request.tokens : 0;
      const needs = this.needsOf(keys, tokens);
      const deadlineMs = request.deadlineMs ?? DEFAULT_DEADLINE_MS;
      const tooBig = needs.find((need) => need.amount > need.bucket.capacity);
      if (tooBig) return reject(new RateLimitTimeoutError({ ...describe(tooBig), waitMs: Infinity, deadlineMs }));
      const startedAt = this.now();
      const waiter: Waiter = { keys, tokens, rank: RANK[request.priority ?? "normal"] ?? RANK.normal, needs, startedAt, deadlineAt: startedAt + deadlineMs, deadlineMs, resolve, reject, detach: () => {} };
      if (signal) {
        const onAbort = () => {
          this.remove(waiter);
          reject(new RunAbortedError(signal.reason));
          this.pump();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.detach = () => signal.removeEventListener("abort", onAbort);
      }
      // Behind everyone of the same or higher priority, ahead of everyone lower.
      const at = this.queue.findIndex((queued) => queued.rank > waiter.rank);
      this.queue.splice(at === -1 ? this.queue.length : at, 0, waiter);
      this.pump();
    });
  }

  /** Corrects the token buckets and quotas once a call's real usage is known: charges an overrun, gives back the rest. */
  settle(keys: string[], actualTokens: number, estimatedTokens: number): void {
    const delta = actualTokens - estimatedTokens;
    if (!Number.isFinite(delta) || delta === 0) return;
    const unique = [...new Set(keys)];
    for (const key of unique) {
      const bucket = this.bucketsFor(key)?.tokens;
      if (delta > 0) bucket?.take(delta);
      else bucket?.giveBack(-delta);
    }
    this.quotas.adjustTokens(unique, delta);
    this.pump();
  }

  /** Lowers a key's budget to what the provider reports (`x-ratelimit-remaining-*`, `x-ratelimit-reset-*`). */
  observeHeaders(key: string, headers: Record<string, string | undefined> | Headers): void {
    const buckets = this.bucketsFor(key);
    if (!buckets) return;
    for (const kind of ["requests", "tokens"] as const) {
      const bucket = buckets[kind];
      const remaining = readHeader(headers, `x-ratelimit-remaining-${kind}`)?.trim();
      if (!bucket || !remaining) continue;
      const reset = readHeader(headers, `x-ratelimit-reset-${kind}`);
      bucket.setRemaining(Number(remaining), reset === undefined ? undefined : parseResetDuration(reset));
    }
    this.pump();
  }

  /** Every limited key seen so far and what its buckets hold now, for diagnostics. */
  snapshot(): RateLimitSnapshot[] {
    const view = (bucket: TokenBucket): BucketView => ({ available: Math.floor(bucket.available() + 1e-9), capacity: bucket.capacity });
    return [...this.buckets].map(([key, { requests, tokens }]) => ({ key, ...(requests ? { requests: view(requests) } : {}), ...(tokens ? { tokens: view(tokens) } : {}) }));
  }

  /**
   * Grants every waiter that can go, refuses those over a quota or unable to make their deadline,
   * and sets the one timer for the earliest moment a blocked waiter can go. Each blocked waiter
   * reserves its place in its buckets: its projected time counts all demand queued ahead of it.
   * A later waiter may still go at once when taking its share now does not push back any waiter
   * ahead of it — so a caller held up by its own user limit does not stall others on the model.
   */
  private pump(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const queuedDemand = new Map<TokenBucket, number>();
    const reservations = new Map<TokenBucket, Array<{ demand: number; readyAt: number }>>();
    let wakeAt = Infinity;
    for (const waiter of [...this.queue]) {
      // Checked on every pass, not just on arrival: calls granted meanwhile may have used the quota up.
      const overQuota = this.quotas.check(waiter.keys, waiter.tokens);
      if (overQuota) {
        this.remove(waiter);
        waiter.reject(overQuota);
        continue;
      }
      const fitsNow = waiter.needs.every(({ bucket, amount }) => bucket.timeToAccrue(amount) === 0 && (reservations.get(bucket) ?? []).every((ahead) => now + bucket.timeToAccrue(ahead.demand + amount) <= ahead.readyAt + TOLERANCE_MS));
      let readyAt = now;
      let cause: Need | undefined;
      for (const need of waiter.needs) {
        const at = now + need.bucket.timeToAccrue((queuedDemand.get(need.bucket) ?? 0) + need.amount);
        if (at > readyAt) [readyAt, cause] = [at, need];
      }
      if (fitsNow || !cause) {
        this.grant(waiter, now);
        continue;
      }
      if (readyAt > waiter.deadlineAt + TOLERANCE_MS) {
        this.remove(waiter);
        waiter.reject(new RateLimitTimeoutError({ ...describe(cause), waitMs: readyAt - waiter.startedAt, deadlineMs: waiter.deadlineMs }));
        continue;
      }
      for (const { bucket, amount } of waiter.needs) {
        const demand = (queuedDemand.get(bucket) ?? 0) + amount;
        queuedDemand.set(bucket, demand);
        reservations.set(bucket, [...(reservations.get(bucket) ?? []), { demand, readyAt }]);
      }
      wakeAt = Math.min(wakeAt, readyAt);
    }
    if (wakeAt === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.min(MAX_TIMER_MS, Math.ceil(wakeAt - now)));
  }

  private grant(waiter: Waiter, now: number): void {
    this.remove(waiter);
    for (const need of waiter.needs) need.bucket.take(need.amount);
    this.quotas.record(waiter.keys, waiter.tokens);
    waiter.resolve({ waitedMs: now - waiter.startedAt });
  }

  private remove(waiter: Waiter): void {
    const index = this.queue.indexOf(waiter);
    if (index !== -1) this.queue.splice(index, 1);
    waiter.detach();
  }

  private bucketsFor(key: string): KeyBuckets | undefined {
    const existing = this.buckets.get(key);
    if (existing) return existing;
    const limit = this.limits.match(key);
    if (!limit) return undefined;
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = limit.value;
    const created: KeyBuckets = { pattern: limit.pattern };
    if (rpm !== undefined) created.requests = new TokenBucket({ capacity: rpm, refillPerMinute: rpm, now: this.now });
    if (tpm !== undefined) created.tokens = new TokenBucket({ capacity: tpm, refillPerMinute: tpm, now: this.now });
    this.buckets.set(key, created);
    return created;
  }

  private needsOf(keys: string[], tokens: number): Need[] {
    return keys.flatMap((key) => {
      const buckets = this.bucketsFor(key);
      if (!buckets) return [];
      const needs: Need[] = [];
      if (buckets.requests) needs.push({ key, kind: "requests", pattern: buckets.pattern, bucket: buckets.requests, amount: 1 });
      // Taken even at 0 tokens, so a call cannot slip past another call's unpaid overrun.
      if (buckets.tokens) needs.push({ key, kind: "tokens", pattern: buckets.pattern, bucket: buckets.tokens, amount: tokens });
      return needs;
    });
  }
}

function describe(need: Need): { key: string; kind: LimitKind; pattern: string; amount: number; capacity: number } {
  return { key: need.key, kind: need.kind, pattern: need.pattern, amount: need.amount, capacity: need.bucket.capacity };
}
