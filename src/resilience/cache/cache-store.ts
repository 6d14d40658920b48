import { ConclaveError, ConfigError } from "../../errors.ts";

/** One cached value with its bookkeeping; times are milliseconds since the epoch. */
export interface CacheEntry<V = unknown> {
  value: V;
  storedAt: number;
  /** Absent: the entry never expires (it may still be evicted). */
  expiresAt?: number;
}

/**
 * A key-value cache for model responses and embeddings. Every backend stores values as JSON, so a
 * value reads back the same whichever backend holds it (a Date comes back as its ISO string) and
 * callers never share a mutable object with the cache.
 */
export interface CacheStore {
  readonly kind: "memory" | "sqlite" | "redis";
  /** The value, or undefined when the key is missing or its entry has expired. */
  get<V>(key: string): Promise<V | undefined>;
  /** Stores a JSON-serialisable value; `ttlMs` overrides the store's default time to live. */
  set<V>(key: string, value: V, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every entry of this store (and only of this store). */
  clear(): Promise<void>;
  /** Releases files and connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Options every backend shares. */
export interface CacheStoreOptions {
  /** Default time to live of an entry; without it entries live until evicted or deleted. */
  ttlMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** Serialises a value for storage; values JSON cannot represent are a caller bug, not a cache miss. */
export function encodeValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ConclaveError("CACHE_VALUE_INVALID", "system", `Cannot cache this value: ${(error as Error).message}. Cache only JSON-serialisable values.`, { cause: error });
  }
  // JSON.stringify returns undefined for undefined, functions and symbols: storing them would read back as a miss.
  if (text === undefined) throw new ConclaveError("CACHE_VALUE_INVALID", "system", `Cannot cache a value of type ${typeof value}. Cache only JSON-serialisable values.`);
  return text;
}

export function decodeValue<V>(text: string): V {
  return JSON.parse(text) as V;
}

/** Checks a time to live (option or argument); a zero or negative TTL is a mistake, not "expire now". */
export function checkTtl(ttlMs: number | undefined, what = "ttlMs"): number | undefined {
  if (ttlMs === undefined) return undefined;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new ConfigError(`Cache ${what} must be a positive number of milliseconds, got ${ttlMs}.`, { details: { [what]: ttlMs } });
  return ttlMs;
}

export function checkMaxEntries(maxEntries: number): number {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new ConfigError(`Cache maxEntries must be a positive whole number, got ${maxEntries}.`, { details: { maxEntries } });
  return maxEntries;
}

/** When an entry set at `now` expires: the call's TTL, else the store's default, else never. */
export function expiryOf(now: number, ttlMs: number | undefined, defaultTtlMs: number | undefined): number | undefined {
  const ttl = checkTtl(ttlMs) ?? defaultTtlMs;
  return ttl === undefined ? undefined : now + ttl;
}
