export { RateLimiter } from "./limiter.ts";
export type { AcquireRequest, BucketView, LimitSpec, Priority, RateLimitSnapshot, RateLimiterOptions } from "./types.ts";
export type { QuotaSpec } from "./quotas.ts";
export { TokenBucket, parseResetDuration } from "./token-bucket.ts";
export type { TokenBucketOptions } from "./token-bucket.ts";
export { QuotaExceededError, RateLimitTimeoutError } from "./errors.ts";
export type { LimitKind, QuotaExceededInfo, RateLimitTimeoutInfo } from "./errors.ts";
