import { ConfigError } from "../../errors.ts";

/** Float refill can leave a bucket 1e-13 short of a whole token; that must not cost a waiter a whole timer cycle. */
const EPSILON = 1e-9;
const MS_PER_MINUTE = 60_000;

export interface TokenBucketOptions {
  /** Most the bucket holds, which is also the largest burst it lets through. It starts full. */
  capacity: number;
  /** Tokens added per minute, continuously rather than in steps. 0 means it never refills. */
  refillPerMinute: number;
  /** Clock in milliseconds; injectable so tests can follow fake time. */
  now?: () => number;
}

/**
 * A token bucket with continuous refill, computed from elapsed time on every read (no timers).
 * The level may go below zero: a call that used more than it reserved is charged anyway, and the
 * debt delays later callers instead of being forgotten.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly refillPerMinute: number;
  private readonly now: () => number;
  private level: number;
  private updatedAt: number;
  /**
   * Set when a provider says it has less left than we think: no refill until `until`, when the
   * provider's window is full again. `levelAtStart` lets us keep charging what was taken meanwhile.
   */
  private hold: { until: number; levelAtStart: number } | undefined;

  constructor(options: TokenBucketOptions) {
    if (!(options.capacity > 0) || !Number.isFinite(options.capacity)) throw new ConfigError(`A token bucket needs a positive capacity, got ${options.capacity}.`);
    if (!(options.refillPerMinute >= 0) || !Number.isFinite(options.refillPerMinute)) throw new ConfigError(`A token bucket needs a refill rate of 0 or more per minute, got ${options.refillPerMinute}.`);
    this.capacity = options.capacity;
    this.refillPerMinute = options.refillPerMinute;
    this.now = options.now ?? Date.now;
    this.level = options.capacity;
    this.updatedAt = this.now();
  }

  /** Tokens there now; fractional while refilling, negative while in debt. */
  available(): number {
    this.refill();
    return this.level;
  }

  /** Takes `amount` if it is there; otherwise takes nothing and returns false. */
  tryTake(amount: number): boolean {
    this.refill();
    if (this.level + EPSILON < amount) return false;
    this.level -= amount;
    return true;
  }

  /** Takes `amount` whether or not it is there, going into debt if need be. */
  take(amount: number): void {
    this.refill();
    this.level -= amount;
  }

  /** Returns tokens that were taken but not used, never above capacity. */
  giveBack(amount: number): void {
    this.refill();
    this.level = Math.min(this.capacity, this.level + amount);
  }

  /** Milliseconds until `amount` can be taken at once: 0 if it is there now, Infinity if it exceeds capacity. */
  waitTimeFor(amount: number): number {
    return amount > this.capacity ? Infinity : this.timeToAccrue(amount);
  }

  /**
   * Milliseconds until `amount` will have become available in total, ignoring capacity. Unlike
   * `waitTimeFor` this suits queued demand: callers ahead take their share as it arrives, so the
   * bucket never has to hold all of it at once.
   */
  timeToAccrue(amount: number): number {
    this.refill();
    if (amount - this.level <= EPSILON) return 0;
    let wait = 0;
    let level = this.level;
    if (this.hold) {
      wait = this.hold.until - this.now();
      level = this.levelAfterHold();
      if (amount - level <= EPSILON) return wait;
    }
    if (this.refillPerMinute === 0) return Infinity;
    return wait + ((amount - level) * MS_PER_MINUTE) / this.refillPerMinute;
  }

  /**
   * Applies what a provider reported (e.g. `x-ratelimit-remaining-requests`). It only ever lowers
   * the level: the provider has not yet counted calls still in flight, which we have. With
   * `resetInMs`, nothing refills until then, when the provider's window is full again — safe both
   * for providers that refill continuously and for those with fixed windows.
   */
  setRemaining(remaining: number, resetInMs?: number): void {
    this.refill();
    if (!Number.isFinite(remaining) || remaining >= this.level) return;
    this.level = remaining;
    if (resetInMs !== undefined && resetInMs > 0 && Number.isFinite(resetInMs)) this.hold = { until: this.now() + resetInMs, levelAtStart: this.level };
  }

  /** Full at the end of the hold, less whatever was taken (net of give-backs) during it. */
  private levelAfterHold(): number {
    const hold = this.hold;
    return hold ? Math.min(this.capacity, this.capacity - (hold.levelAtStart - this.level)) : this.level;
  }

  private refill(): void {
    const now = this.now();
    if (this.hold) {
      if (now < this.hold.until) {
        this.updatedAt = Math.max(this.updatedAt, now);
        return;
      }
      this.level = this.levelAfterHold();
      this.updatedAt = this.hold.until;
      this.hold = undefined;
    }
    // A clock that steps backwards must not mint tokens later, so only forward time counts.
    if (now > this.updatedAt) {
      this.level = Math.min(this.capacity, this.level + ((now - this.updatedAt) * this.refillPerMinute) / MS_PER_MINUTE);
      this.updatedAt = now;
    }
  }
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000_001 };
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/gy;

/**
 * Parses OpenAI's reset durations (Go's duration format): "1s", "6m0s", "20ms", "1h2m3s",
 * "2m59.56s". Returns milliseconds, or undefined for anything else (including bare numbers,
 * whose unit would be a guess).
 */
export function parseResetDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(trimmed); match; match = PART.exec(trimmed)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  return consumed === trimmed.length && Number.isFinite(total) ? total : undefined;
}
