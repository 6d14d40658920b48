import { TimeoutStrategy, timeout, wrap } from "cockatiel";
import type { BreakerOptions, BreakerRegistry } from "./breakers.ts";
import { breakers as processBreakers } from "./breakers.ts";
import { ProviderError } from "../errors.ts";
import { classifyFailure } from "./classify.ts";
import type { FailureClass } from "./classify.ts";

/** How model calls are retried, timed out and broken off. One layer: provider SDK retries are off. */
export interface ResilienceOptions {
  /** Retries of one logical call (so at most 1 + maxRetries HTTP requests). */
  maxRetries: number;
  /** First backoff delay; doubled per attempt, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call gives up instead of retrying early. */
  maxRetryAfterMs: number;
  /** Per-attempt timeout; the request is cancelled through its AbortSignal. */
  timeoutMs: number;
  breaker: BreakerOptions;
  /** Retries allowed across the whole run. */
  retryBudget: number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 60_000,
  breaker: { failureThreshold: 5, cooldownMs: 30_000 },
  retryBudget: 20,
};

export interface PolicyHooks {
  onRetry?: (retry: { attempt: number; delayMs: number; reason: string; status?: number }) => void;
  onGiveUp?: (giveUp: { attempts: number; reason: string; status?: number }) => void;
}

export interface CallContext {
  /** Breaker key: provider, model and endpoint. */
  key: string;
  options: ResilienceOptions;
  /** The run's signal: aborting it cancels the attempt and any wait. */
  signal?: AbortSignal;
  /** The run's remaining retries, shared by all its calls. */
  retryBudget?: { remaining: number };
  registry?: BreakerRegistry;
  hooks?: PolicyHooks;
  /** Runs before each attempt, outside its timeout (a rate-limit wait must not count as the call being slow). */
  beforeAttempt?: (signal: AbortSignal | undefined) => Promise<void>;
  /** Sees each failed attempt's error (e.g. to read rate-limit headers). */
  afterFailure?: (error: unknown) => void;
}

/**
 * Runs one logical model call: for each attempt, wait until the provider's last Retry-After for
 * this key has passed and for `beforeAttempt` (the rate limit), then call through the
 * provider+model circuit breaker with a per-attempt timeout that aborts the request. A failure
 * worth retrying (see `classifyFailure`) is retried after Retry-After (capped) or an exponential
 * backoff with jitter, within the run's retry budget. Every wait is cancelled by the run's signal.
 */
export async function callWithResilience<T>(fn: (signal: AbortSignal) => Promise<T>, context: CallContext): Promise<T> {
  const { options, hooks = {}, retryBudget, signal } = context;
  const registry = context.registry ?? processBreakers;
  const guarded = wrap(registry.get(context.key, options.breaker), timeout(options.timeoutMs, TimeoutStrategy.Aggressive));
  for (let attempt = 1; ; attempt++) {
    try {
      const hold = registry.holdTime(context.key);
      // The provider asked for quiet longer than we wait: fail now rather than stall the run.
      if (hold > options.maxRetryAfterMs) throw new ProviderError("PROVIDER_RATE_LIMITED", `The provider asked for no calls to ${context.key} for another ${Math.ceil(hold / 1000)} s, longer than resilience.maxRetryAfterMs. Wait, or configure a fallback model.`, { details: { holdMs: hold } });
      await sleep(hold, signal);
      await context.beforeAttempt?.(signal);
      return await guarded.execute(({ signal: attemptSignal }) => fn(attemptSignal), signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      context.afterFailure?.(error);
      const failure = classifyFailure(error);
      if (failure.retryAfterMs !== undefined) registry.holdFor(context.key, failure.retryAfterMs);
      const retry = attempt <= options.maxRetries && worthRetrying(failure, options, retryBudget);
      if (!retry) {
        hooks.onGiveUp?.({ attempts: attempt, reason: (error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError ? "circuit-open" : failure.reason, ...(failure.status !== undefined ? { status: failure.status } : {}) });
        throw error;
      }
      if (retryBudget) retryBudget.remaining -= 1;
      const delayMs = Math.round(delayFor(failure, attempt, options));
      hooks.onRetry?.({ attempt, delayMs, reason: failure.reason, ...(failure.status !== undefined ? { status: failure.status } : {}) });
      await sleep(delayMs, signal);
    }
  }
}

function worthRetrying(failure: FailureClass, options: ResilienceOptions, budget: { remaining: number } | undefined): boolean {
  if (!failure.retryable) return false;
  if (failure.retryAfterMs !== undefined && failure.retryAfterMs > options.maxRetryAfterMs) return false;
  return !budget || budget.remaining > 0;
}

/** Retry-After when the provider gave one (already checked against the cap), else exponential backoff with equal jitter. */
function delayFor(failure: FailureClass, attempt: number, options: ResilienceOptions): number {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs;
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return exponential / 2 + (Math.random() * exponential) / 2;
}

/** A wait that the run's signal cuts short, so a cancelled run does not linger in a backoff. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
