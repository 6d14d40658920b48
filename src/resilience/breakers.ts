import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from "cockatiel";
import type { CircuitBreakerPolicy } from "cockatiel";
import { classifyFailure } from "./classify.ts";

export type BreakerState = "closed" | "open" | "half-open" | "isolated";

export interface BreakerOptions {
  /** Consecutive retryable failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call is let through. */
  cooldownMs: number;
}

export interface BreakerChange {
  key: string;
  state: BreakerState;
  previous: BreakerState;
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half-open",
  [CircuitState.Isolated]: "isolated",
};

/**
 * Circuit breakers per provider, model and endpoint, shared by every run in the process: once a
 * model keeps failing, further calls fail fast instead of waiting on it, until a probe after the
 * cool-down succeeds (closed again) or fails (open again). Only failures worth retrying count; a
 * bad request does not say the provider is down. It also remembers, per key, the time before
 * which the provider asked not to be called again (Retry-After), so every call honours it.
 */
export class BreakerRegistry {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; options: BreakerOptions; state: BreakerState }>();
  private readonly holds = new Map<string, number>();
  private readonly listeners = new Set<(change: BreakerChange) => void>();

  /** The breaker for `key`, created on first use; every state change is told to the listeners. */
  get(key: string, options: BreakerOptions): CircuitBreakerPolicy {
    const existing = this.breakers.get(key);
    if (existing) return existing.policy;
    const policy = circuitBreaker(handleWhen((error) => classifyFailure(error).retryable), { halfOpenAfter: options.cooldownMs, breaker: new ConsecutiveBreaker(options.failureThreshold) });
    const entry = { policy, options, state: "closed" as BreakerState };
    policy.onStateChange((state) => {
      const change = { key, state: STATES[state], previous: entry.state };
      entry.state = change.state;
      for (const listener of this.listeners) listener(change);
    });
    this.breakers.set(key, entry);
    return policy;
  }

  /** Subscribes to state changes of every breaker; returns the unsubscribe function. */
  onChange(listener: (change: BreakerChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stateOf(key: string): BreakerState | undefined {
    return this.breakers.get(key)?.state;
  }

  /** Every breaker and its state, for `conclave doctor` and `/ready`. */
  snapshot(): Array<{ key: string; state: BreakerState; failureThreshold: number; cooldownMs: number }> {
    return [...this.breakers].map(([key, { state, options }]) => ({ key, state, ...options }));
  }

  /** Records that the provider asked for no calls on `key` for `ms` (the longest request wins). */
  holdFor(key: string, ms: number): void {
    this.holds.set(key, Math.max(this.holds.get(key) ?? 0, Date.now() + ms));
  }

  /** How long a call on `key` must still wait for the provider's last Retry-After. */
  holdTime(key: string): number {
    return Math.max(0, (this.holds.get(key) ?? 0) - Date.now());
  }

  /** Forgets every breaker and hold (tests, or after reconfiguring providers). */
  clear(): void {
    this.breakers.clear();
    this.holds.clear();
  }
}

/** The process-wide registry that model calls use. */
export const breakers = new BreakerRegistry();
