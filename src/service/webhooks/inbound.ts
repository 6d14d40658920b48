import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { ConclaveError } from "../../errors.ts";
import type { VerifiedWebhook } from "./verify.ts";

/**
 * Keys that started a run, with the run's id. `claim` is SET NX: of several deliveries of one event,
 * exactly one wins and starts the run; the others read the run id once the winner has stored it.
 */
export interface IdempotencyStore {
  /** Sets `key` to `value` only if it is absent; true when this call set it. */
  claim(key: string, value: string, ttlMs: number): Promise<boolean>;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Deletes `key` only while it still holds `value`, so a failed start can be retried. */
  release(key: string, value: string): Promise<void>;
}

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now) {}

  async claim(key: string, value: string, ttlMs: number): Promise<boolean> {
    // Check and set with no await between them: that is what makes it SET NX.
    if (this.current(key) !== undefined) return false;
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
    return true;
  }

  async get(key: string): Promise<string | undefined> {
    return this.current(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async release(key: string, value: string): Promise<void> {
    if (this.entries.get(key)?.value === value) this.entries.delete(key);
  }

  private current(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt > this.now()) return entry?.value;
    this.entries.delete(key);
    return undefined;
  }
}

const RELEASE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** Shared by every server on one Redis: `SET key value NX PX ttl`, the run id stored under the key. */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly client: Redis;
  private readonly keyPrefix: string;

  constructor(options: { client: Redis; keyPrefix?: string }) {
    this.client = options.client;
    this.keyPrefix = options.keyPrefix ?? "conclave:webhook:run:";
  }

  async claim(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(this.keyPrefix + key, value, "PX", ttlMs, "NX")) === "OK";
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.client.get(this.keyPrefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(this.keyPrefix + key, value, "PX", ttlMs);
  }

  async release(key: string, value: string): Promise<void> {
    await this.client.eval(RELEASE_SCRIPT, 1, this.keyPrefix + key, value);
  }
}

export interface WebhookInboxOptions {
  store: IdempotencyStore;
  /** A payload field (dotted path) to use as the key instead of the webhook id, e.g. "data.orderId". */
  keyField?: string;
  /** How long a key is kept (default 24 hours: longer than any sender retries). */
  ttlMs?: number;
  /** How long a duplicate waits for the first delivery's run id (default 30 000). */
  waitMs?: number;
  /**
   * How long a claim lasts before its run id is stored (default 2 × waitMs). If the server that
   * claimed an event dies while starting the run, a redelivery after this may start it instead.
   */
  claimTtlMs?: number;
  pollMs?: number;
}

const PENDING = "pending:";

/** Turns verified webhooks into runs, at most one per event however often it is delivered. */
export class WebhookInbox {
  private readonly ttlMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly claimTtlMs: number;

  constructor(private readonly options: WebhookInboxOptions) {
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1_000;
    this.waitMs = options.waitMs ?? 30_000;
    this.pollMs = options.pollMs ?? 50;
    this.claimTtlMs = Math.min(this.ttlMs, options.claimTtlMs ?? 2 * this.waitMs);
  }

  /** The idempotency key: the webhook id, or the configured payload field. */
  keyOf(event: Pick<VerifiedWebhook, "id" | "payload">): string {
    const field = this.options.keyField;
    if (field === undefined) return event.id;
    let value: unknown = event.payload;
    for (const part of field.split(".")) value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    if ((typeof value === "string" && value !== "") || typeof value === "number") return `${field}=${value}`;
    throw new ConclaveError("WEBHOOK_KEY_MISSING", "user", `The webhook payload has no "${field}" to use as its idempotency key. Have the sender include it, or drop keyField to key by webhook-id.`, { details: { id: event.id, keyField: field } });
  }

  /** Starts the run for a new event, or returns the run an earlier delivery started. */
  async accept(event: Pick<VerifiedWebhook, "id" | "payload">, start: () => Promise<string>): Promise<{ runId: string; duplicate: boolean }> {
    const key = this.keyOf(event);
    const token = PENDING + randomUUID();
    if (await this.options.store.claim(key, token, this.claimTtlMs)) {
      let runId: string;
      try {
        runId = await start();
      } catch (error) {
        await this.options.store.release(key, token).catch(() => undefined); // let a redelivery try again
        throw error;
      }
      await this.options.store.set(key, runId, this.ttlMs);
      return { runId, duplicate: false };
    }
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const value = await this.options.store.get(key);
      if (value !== undefined && !value.startsWith(PENDING)) return { runId: value, duplicate: true };
      if (value === undefined) return this.accept(event, start); // the first start failed and let go
      if (Date.now() >= deadline) {
        throw new ConclaveError("WEBHOOK_RUN_PENDING", "system", `Another delivery of webhook key "${key}" is still starting its run after ${this.waitMs} ms. Answer 409 so the sender retries later.`, { details: { key } });
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }
}
