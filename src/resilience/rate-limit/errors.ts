import { ConclaveError } from "../../errors.ts";

export type LimitKind = "requests" | "tokens";

/** Milliseconds as people read them: "850 ms", "12.5 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "forever";
  return ms < 1_000 ? `${Math.ceil(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

export interface RateLimitTimeoutInfo {
  key: string;
  kind: LimitKind;
  /** The limit entry that matched the key, e.g. "model:*". */
  pattern: string;
  /** How long the call would have had to wait; Infinity when it can never fit. */
  waitMs: number;
  deadlineMs: number;
  /** What the call needs from the bucket, and what the bucket can hold. */
  amount: number;
  capacity: number;
}

/**
 * A call would have to wait for a rate limit longer than its deadline. It is refused as soon as
 * that is known, rather than after sleeping until the deadline.
 */
export class RateLimitTimeoutError extends ConclaveError {
  override name = "RateLimitTimeoutError";
  readonly key: string;
  readonly waitMs: number;
  readonly deadlineMs: number;

  constructor(info: RateLimitTimeoutInfo) {
    const limit = `${info.kind}PerMinute for "${info.pattern}"`;
    const message = Number.isFinite(info.waitMs)
      ? `Rate limit "${info.key}" (${info.kind}) needs a wait of ${formatMs(info.waitMs)}, longer than the call's ${formatMs(info.deadlineMs)} deadline. Raise deadlineMs, raise ${limit} if the provider allows more, or make fewer calls at once.`
      : `Rate limit "${info.key}" (${info.kind}) can never let this call through: it needs ${info.amount} ${info.kind} but the limit allows ${info.capacity} per minute. Raise ${limit}, or make the call smaller.`;
    super("RATE_LIMIT_TIMEOUT", "user", message, { details: { ...info } });
    this.key = info.key;
    this.waitMs = info.waitMs;
    this.deadlineMs = info.deadlineMs;
  }
}

export interface QuotaExceededInfo {
  key: string;
  kind: LimitKind;
  /** The quota entry that matched the key, e.g. "user:*". */
  pattern: string;
  quota: number;
  used: number;
  /** What this call would add. */
  requested: number;
}

/** A key's hard quota (for the limiter's whole life) would be exceeded by this call. */
export class QuotaExceededError extends ConclaveError {
  override name = "QuotaExceededError";
  readonly key: string;

  constructor(info: QuotaExceededInfo) {
    super(
      "QUOTA_EXCEEDED",
      "user",
      `Quota for "${info.key}" is used up: ${info.used} of ${info.quota} ${info.kind} taken, and this call needs ${info.requested} more. Raise quotas["${info.pattern}"].${info.kind} if this is expected; the quota lasts as long as the limiter does.`,
      { details: { ...info } },
    );
    this.key = info.key;
  }
}
