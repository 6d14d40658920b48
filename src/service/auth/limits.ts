import { QuotaExceededError, RateLimiter, RateLimitTimeoutError } from "../../resilience/rate-limit/index.ts";
import type { Principal } from "./keys.ts";

/** The verdict on one request: go ahead, or answer 429 (with Retry-After when waiting helps). */
export type LimitDecision =
  | { ok: true }
  | { ok: false; status: 429; reason: "rate-limit"; retryAfterSec: number; message: string }
  | { ok: false; status: 429; reason: "quota"; message: string };

/**
 * Whatever enforces per-key limits: this process's `ApiKeyLimits`, or `RedisApiKeyLimits` when
 * several servers must share them. `check` counts one request or says why not; it never waits.
 */
export interface KeyLimits {
  check(principal: Principal): Promise<LimitDecision>;
}

/** The 429 for a key over its requests per minute; shared so every store words it the same way. */
export function rateLimitRefusal(principal: Principal, waitMs: number): LimitDecision {
  return { ok: false, status: 429, reason: "rate-limit", retryAfterSec: Math.max(1, Math.ceil(waitMs / 1_000)), message: `API key ${principal.id} is over its limit of ${principal.rateLimit?.requestsPerMinute} requests per minute; retry later.` };
}

/** The 429 for a key that has used its quota: waiting does not help, so no Retry-After. */
export function quotaRefusal(principal: Principal): LimitDecision {
  return { ok: false, status: 429, reason: "quota", message: `API key ${principal.id} has used its quota of ${principal.quota?.requests} requests. Ask an admin for a key with a larger --quota.` };
}

/** The limiter key of an API key: `key:<id>`. */
export function apiKeyRateKey(principal: Pick<Principal, "id">): string {
  return `key:${principal.id}`;
}

/**
 * Per-API-key request limits and quotas for the service, on the resilience module's RateLimiter
 * (token buckets and quota ledger), one per key, made on the key's first request. A request never
 * waits: it takes a slot with a zero deadline, so a full bucket refuses at once with the wait it
 * would have needed. Quotas count requests for this process's life, as the limiter's do.
 */
export class ApiKeyLimits implements KeyLimits {
  private readonly now: (() => number) | undefined;
  private readonly limiters = new Map<string, { limiter: RateLimiter; signature: string }>();

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now;
  }

  /** Counts one request against the key's limits, or says why not and when to retry. */
  async check(principal: Principal): Promise<LimitDecision> {
    const limiter = this.limiterFor(principal);
    if (!limiter) return { ok: true };
    try {
      await limiter.acquire({ keys: [apiKeyRateKey(principal)], deadlineMs: 0 });
      return { ok: true };
    } catch (error) {
      if (error instanceof RateLimitTimeoutError) return rateLimitRefusal(principal, error.waitMs);
      if (error instanceof QuotaExceededError) return quotaRefusal(principal);
      throw error;
    }
  }

  private limiterFor(principal: Principal): RateLimiter | undefined {
    const { rateLimit, quota } = principal;
    if (!rateLimit && !quota) return undefined;
    const signature = JSON.stringify([rateLimit ?? null, quota ?? null]);
    const existing = this.limiters.get(principal.id);
    if (existing?.signature === signature) return existing.limiter;
    const key = apiKeyRateKey(principal);
    const limiter = new RateLimiter({
      limits: rateLimit ? { [key]: { requestsPerMinute: rateLimit.requestsPerMinute } } : {},
      quotas: quota ? { [key]: { requests: quota.requests } } : {},
      ...(this.now ? { now: this.now } : {}),
    });
    this.limiters.set(principal.id, { limiter, signature });
    return limiter;
  }
}
