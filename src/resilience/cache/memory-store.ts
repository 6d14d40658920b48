import type { CacheEntry, CacheStore, CacheStoreOptions } from "./cache-store.ts";
import { checkMaxEntries, checkTtl, decodeValue, encodeValue, expiryOf } from "./cache-store.ts";

export interface MemoryCacheStoreOptions extends CacheStoreOptions {
  /** Entries kept before the least recently used one is evicted (default 1000). */
  maxEntries?: number;
}

export const DEFAULT_MEMORY_MAX_ENTRIES = 1000;

/**
 * An in-process LRU cache. A Map iterates in insertion order, so re-inserting an entry on every
 * read keeps the least recently used entry first, where eviction takes it from.
 */
export class MemoryCacheStore implements CacheStore {
  readonly kind = "memory";
  private readonly entries = new Map<string, CacheEntry<string>>();
  private readonly maxEntries: number;
  private readonly defaultTtlMs: number | undefined;
  private readonly now: () => number;

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.maxEntries = checkMaxEntries(options.maxEntries ?? DEFAULT_MEMORY_MAX_ENTRIES);
    this.defaultTtlMs = checkTtl(options.ttlMs);
    this.now = options.now ?? Date.now;
  }

  /** Entries held, including expired ones not yet looked at. */
  get size(): number {
    return this.entries.size;
  }

  async get<V>(key: string): Promise<V | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return decodeValue<V>(entry.value);
  }

  async set<V>(key: string, value: V, ttlMs?: number): Promise<void> {
    const storedAt = this.now();
    const expiresAt = expiryOf(storedAt, ttlMs, this.defaultTtlMs);
    const entry: CacheEntry<string> = { value: encodeValue(value), storedAt, ...(expiresAt === undefined ? {} : { expiresAt }) };
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async clear(): Promise<void> {
    this.entries.clear();
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
