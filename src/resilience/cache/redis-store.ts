import { Redis } from "ioredis";
import { ConclaveError, ConfigError } from "../../errors.ts";
import type { CacheStore, CacheStoreOptions } from "./cache-store.ts";
import { checkTtl, decodeValue, encodeValue, expiryOf } from "./cache-store.ts";

export interface RedisCacheStoreOptions extends CacheStoreOptions {
  /** `redis://` or `rediss://` URL of the server, usually from `REDIS_URL`. */
  url: string;
  /** Prepended to every key; `clear()` removes only keys with it (default `conclave:cache:`). */
  keyPrefix?: string;
  /** How long the first connection may take before the store gives up (default 5000). */
  connectTimeoutMs?: number;
}

export const DEFAULT_REDIS_KEY_PREFIX = "conclave:cache:";

const SCAN_BATCH = 500;

/**
 * A cache in Redis, shared by every process and machine pointed at the same server. Expiry is
 * Redis's own (`PX`); there is no entry limit here — size is Redis's `maxmemory` policy's job.
 * The connection opens on first use, and an unreachable server fails with a ConfigError that says
 * how to fix it rather than retrying forever.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = "redis";
  readonly keyPrefix: string;
  /** The server URL with any password masked, safe for messages and logs. */
  readonly url: string;
  private readonly client: Redis;
  private readonly defaultTtlMs: number | undefined;
  private readonly now: () => number;
  private connecting: Promise<void> | undefined;
  private lastError: Error | undefined;
  private closed = false;

  constructor(options: RedisCacheStoreOptions) {
    this.url = redactUrl(checkRedisUrl(options.url));
    this.keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    this.defaultTtlMs = checkTtl(options.ttlMs);
    this.now = options.now ?? Date.now;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5_000,
      // A cache that is down should cost a lookup a moment, not stall a run through twenty retries.
      maxRetriesPerRequest: 1,
    });
    // Failures reach callers through rejected commands; without a listener ioredis also prints them.
    // The event holds the real cause (ECONNREFUSED…) where connect() only says "Connection is closed".
    this.client.on("error", (error: Error) => {
      this.lastError = error;
    });
  }

  async get<V>(key: string): Promise<V | undefined> {
    await this.ready();
    const text = await this.client.get(this.keyPrefix + key);
    return text === null ? undefined : decodeValue<V>(text);
  }

  async set<V>(key: string, value: V, ttlMs?: number): Promise<void> {
    const text = encodeValue(value);
    const now = this.now();
    const expiresAt = expiryOf(now, ttlMs, this.defaultTtlMs);
    await this.ready();
    // PX needs a whole number of at least 1 ms.
    if (expiresAt === undefined) await this.client.set(this.keyPrefix + key, text);
    else await this.client.set(this.keyPrefix + key, text, "PX", Math.max(1, Math.ceil(expiresAt - now)));
  }

  async delete(key: string): Promise<void> {
    await this.ready();
    await this.client.del(this.keyPrefix + key);
  }

  /** SCAN + DEL over this store's prefix only; other data in the same database is never touched. */
  async clear(): Promise<void> {
    await this.ready();
    const match = `${escapeGlob(this.keyPrefix)}*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.client.scan(cursor, "MATCH", match, "COUNT", SCAN_BATCH);
      if (keys.length > 0) await this.client.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.client.status === "ready") await this.client.quit();
    else this.client.disconnect();
  }

  /** Connects once; a failed first connection is reported and forgotten, so a later call may try again. */
  private ready(): Promise<void> {
    // Connecting again after close() would leave a connection nobody ever closes.
    if (this.closed) return Promise.reject(new ConclaveError("CACHE_CLOSED", "system", `The Redis cache store for ${this.url} is closed; create a new one.`));
    this.connecting ??= this.connect();
    return this.connecting;
  }

  private async connect(): Promise<void> {
    this.lastError = undefined;
    try {
      await this.client.connect();
    } catch (error) {
      const cause = this.lastError ?? error;
      this.connecting = undefined;
      // Stop ioredis reconnecting in the background: nobody is waiting for it.
      this.client.disconnect();
      throw new ConfigError(
        `Cannot reach the Redis cache at ${this.url} (${(cause as Error).message}). Start Redis there, point REDIS_URL at a running server, or unset REDIS_URL / choose the memory or sqlite cache backend.`,
        { details: { backend: "redis", url: this.url }, cause },
      );
    }
  }
}

/** Masks the password of a URL such as `redis://:secret@host:6379`, leaving anything else as it is. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function checkRedisUrl(url: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    throw new ConfigError(`The Redis cache URL "${redactUrl(url)}" is not a redis:// or rediss:// URL. Set REDIS_URL to e.g. redis://127.0.0.1:6379, or choose the memory or sqlite cache backend.`, { details: { backend: "redis" } });
  }
  return url;
}

/** SCAN MATCH is a glob: a prefix holding `*`, `?`, `[` or `]` must match itself only. */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, "\\$&");
}
