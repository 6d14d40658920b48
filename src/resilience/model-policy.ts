import { DelegateBackoff, TimeoutStrategy, handleWhen, retry, timeout, wrap } from "cockatiel";
import type { IRetryBackoffContext } from "cockatiel";
import type { BreakerOptions, BreakerRegistry, BreakerState } from "./breakers.ts";
import { breakers as processBreakers } from "./breakers.ts";
import { classifyFailure } from "./classify.ts";

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
  onBreaker?: (change: { key: string; state: BreakerState; previous: BreakerState }) => void;
}

export interface CallContext {
  /** Breaker key: provider and model. */
  key: string;
  options: ResilienceOptions;
  /** The run's signal: aborting it cancels the attempt and any wait. */
  signal?: AbortSignal;
  /** The run's remaining retries, shared by all its calls. */
  retryBudget?: { remaining: number };
  registry?: BreakerRegistry;
  hooks?: PolicyHooks;
}

/**
 * Runs one logical model call through retry (exponential backoff with jitter, honouring
 * Retry-After up to a cap; only retryable failures; within the run's retry budget) → the
 * provider+model circuit breaker → a per-attempt timeout that aborts the request.
 */
export async function callWithResilience<T>(fn: (signal: AbortSignal) => Promise<T>, context: CallContext): Promise<T> {
  const { options, hooks = {}, retryBudget } = context;
  const registry = context.registry ?? processBreakers;
  const breaker = registry.get(context.key, options.breaker);
  const stateBefore = registry.stateOf(context.key)!;
  let attempts = 0;
  const worthRetrying = (error: Error) => {
    const failure = classifyFailure(error);
    if (!failure.retryable) return false;
    if (failure.retryAfterMs !== undefined && failure.retryAfterMs > options.maxRetryAfterMs) return false;
    return !retryBudget || retryBudget.remaining > 0;
  };
  const retryPolicy = retry(handleWhen(worthRetrying), { maxAttempts: options.maxRetries, backoff: new DelegateBackoff((backoff: IRetryBackoffContext<unknown>) => delayFor(backoff, options)) });
  retryPolicy.onRetry((event) => {
    if (retryBudget) retryBudget.remaining -= 1;
    const failure = "error" in event ? classifyFailure(event.error) : { reason: "result" };
    hooks.onRetry?.({ attempt: event.attempt, delayMs: Math.round(event.delay), reason: failure.reason, ...("status" in failure && failure.status !== undefined ? { status: failure.status } : {}) });
  });
  const policy = wrap(retryPolicy, breaker, timeout(options.timeoutMs, TimeoutStrategy.Aggressive));
  try {
    return await policy.execute(({ signal }) => {
      attempts += 1;
      return fn(signal);
    }, context.signal);
  } catch (error) {
    const failure = classifyFailure(error);
    hooks.onGiveUp?.({ attempts, reason: (error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError ? "circuit-open" : failure.reason, ...(failure.status !== undefined ? { status: failure.status } : {}) });
    throw error;
  } finally {
    const stateAfter = registry.stateOf(context.key)!;
    if (stateAfter !== stateBefore) hooks.onBreaker?.({ key: context.key, state: stateAfter, previous: stateBefore });
  }
}

/** Retry-After when the provider gave one (already checked against the cap), else exponential backoff with equal jitter. */
function delayFor(context: IRetryBackoffContext<unknown>, options: ResilienceOptions): number {
  const error = "error" in context.result ? context.result.error : undefined;
  const retryAfter = error ? classifyFailure(error).retryAfterMs : undefined;
  if (retryAfter !== undefined) return retryAfter;
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (context.attempt - 1));
  return exponential / 2 + (Math.random() * exponential) / 2;
}
