import type { Redis } from "ioredis";

/**
 * Webhook ids already accepted, so a captured request cannot be sent again inside the timestamp
 * tolerance window. `remember` is the atomic check: it answers false when the id was already there.
 */
export interface ReplayCache {
  seen(id: string): Promise<boolean>;
  /** Records the id for `ttlMs`; true when it was new, false when it had been seen (SET NX). */
  remember(id: string, ttlMs: number): Promise<boolean>;
}

/** One process's replay cache: enough for a single server, not for several behind a balancer. */
export class MemoryReplayCache implements ReplayCache {
  private readonly expiries = new Map<string, number>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async seen(id: string): Promise<boolean> {
    const expiresAt = this.expiries.get(id);
    return expiresAt !== undefined && expiresAt > this.now();
  }

  async remember(id: string, ttlMs: number): Promise<boolean> {
    this.sweep();
    if (await this.seen(id)) return false;
    this.expiries.delete(id); // re-inserted at the end, keeping the map in rough expiry order
    this.expiries.set(id, this.now() + ttlMs);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Drops expired ids from the front; entries share one ttl, so insertion order is expiry order. */
  private sweep(): void {
    const now = this.now();
    for (const [id, expiresAt] of this.expiries) {
      if (expiresAt > now) break;
      this.expiries.delete(id);
    }
  }
}

/** A replay cache shared by every server on one Redis: `SET key 1 NX PX ttl`. The caller owns the client. */
export class RedisReplayCache implements ReplayCache {
  private readonly client: Redis;
  private readonly keyPrefix: string;

  constructor(options: { client: Redis; keyPrefix?: string }) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix ?? "conclave:webhook:seen:";
  }

  async seen(id: string): Promise<boolean> {
    return (await this.client.exists(this.keyPrefix + id)) === 1;
  }

  async remember(id: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(this.keyPrefix + id, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
  }
}
