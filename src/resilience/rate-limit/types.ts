import type { QuotaSpec } from "./quotas.ts";

export type Priority = "high" | "normal" | "batch";

/** Limits for one key, or for every key under a prefix pattern ("model:*" gives each model its own). */
export interface LimitSpec {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface AcquireRequest {
  /** Every key the call counts against, e.g. ["model:openai:gpt-4o-mini", "user:alice"]. */
  keys: string[];
  /** Estimated tokens of the call; corrected afterwards with `settle`. */
  tokens?: number;
  /** "high" goes before "normal" before "batch"; first come, first served within one. Default "normal". */
  priority?: Priority;
  /** Longest wait accepted, from now. Default 60 000 ms. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface RateLimiterOptions {
  /** Key or key prefix ("model:*") → its limits. Keys that match nothing are unlimited. */
  limits: Record<string, LimitSpec>;
  now?: () => number;
  /** Key or key prefix → hard caps for the limiter's life. */
  quotas?: Record<string, QuotaSpec>;
}

export interface BucketView {
  /** Whole units that could be taken now (negative while a call's overrun is being paid back). */
  available: number;
  capacity: number;
}

export interface RateLimitSnapshot {
  key: string;
  requests?: BucketView;
  tokens?: BucketView;
}
