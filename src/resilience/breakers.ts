import { CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import { classifyFailure } from "./classify.ts";

export type BreakerState = "closed" | "open" | "half-open" | "isolated";

export interface BreakerOptions {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  cooldownMs: number;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "isolated",
};

/**
 * Circuit breakers per provider and model, shared by every run in the process: once a model keeps
 * failing, further calls fail fast instead of waiting on it, until a probe after the cool-down
 * succeeds (closed again) or fails (open again). Only failures worth retrying count; a bad request
 * does not say the provider is down.
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; options: BreakerOptions }>();

  /** The breaker for `key` (e.g. "openai-compatible:gpt-4o-mini"), created on first use. */
  get(key: string, options: BreakerOptions): CircuitBreakerPolicy {
    const existing = this.breakers.get(key);
    if (existing) return existing.policy;
    const policy = circuitBreaker(handleWhen((error) => classifyFailure(error).retryable), { halfOpenAfter: options.cooldownMs, breaker: new ConsecutiveBreaker(options.failureThreshold) });
    this.breakers.set(key, { policy, options });
    return policy;
  }

  stateOf(key: string): BreakerState | undefined {
    const entry = this.breakers.get(key);
    return entry ? STATES[entry.policy.state] : undefined;
  }

  /** Every breaker and its state, for `conclave doctor` and `/ready`. */
  snapshot(): Array<{ key: string; state: BreakerState; failureThreshold: number; cooldownMs: number }> {
    return [...this.breakers].map(([key, { policy, options }]) => ({ key, state: STATES[policy.state], ...options }));
  }

  /** Forgets every breaker (tests, or after reconfiguring providers). */
  clear(): void {
    this.breakers.clear();
  }
}

/** The process-wide registry that model calls use. */
export const breakers = new BreakerRegistry();
