import { resolve } from "node:path";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { openSqlite } from "../sqlite.ts";
import type { CacheStore, CacheStoreOptions } from "./cache-store.ts";
import { checkMaxEntries, checkTtl, decodeValue, encodeValue, expiryOf } from "./cache-store.ts";

export interface SqliteCacheStoreOptions extends CacheStoreOptions {
  /** Database file, resolved against `cwd` (default `.conclave/cache.sqlite`); `:memory:` for a private in-memory database. */
  path?: string;
  /** Folder a relative `path` is resolved against (default `process.cwd()`). */
  cwd?: string;
  /** Rows kept before the oldest-stored ones are evicted (default 10 000). */
  maxEntries?: number;
}

export const DEFAULT_SQLITE_PATH = ".conclave/cache.sqlite";
export const DEFAULT_SQLITE_MAX_ENTRIES = 10_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, stored_at INTEGER NOT NULL, expires_at INTEGER);
  CREATE INDEX IF NOT EXISTS cache_stored_at ON cache (stored_at);
  CREATE INDEX IF NOT EXISTS cache_expires_at ON cache (expires_at) WHERE expires_at IS NOT NULL;
`;

interface Row {
  value: string;
  expires_at: number | null;
}

/**
 * A cache in one SQLite file, so cached model answers survive restarts and are shared by the
 * processes of one project. WAL mode lets readers and a writer work at the same time.
 */
export class SqliteCacheStore implements CacheStore {
  readonly kind = "sqlite";
  /** The resolved database file. */
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly maxEntries: number;
  private readonly defaultTtlMs: number | undefined;
  private readonly now: () => number;
  private readonly statements: {
    get: Statement<[string], Row>;
    put: Statement<[string, string, number, number | null]>;
    remove: Statement<[string]>;
    purgeExpired: Statement<[number]>;
    evict: Statement<[number]>;
    clear: Statement<[]>;
  };
  private readonly putAndTrim: (key: string, value: string, storedAt: number, expiresAt: number | undefined) => void;

  constructor(options: SqliteCacheStoreOptions = {}) {
    this.maxEntries = checkMaxEntries(options.maxEntries ?? DEFAULT_SQLITE_MAX_ENTRIES);
    this.defaultTtlMs = checkTtl(options.ttlMs);
    this.now = options.now ?? Date.now;
    const file = options.path ?? DEFAULT_SQLITE_PATH;
    this.path = file === ":memory:" ? file : resolve(options.cwd ?? process.cwd(), file);
    this.db = openDatabase(this.path);
    this.statements = {
      get: this.db.prepare<[string], Row>("SELECT value, expires_at FROM cache WHERE key = ?"),
      // REPLACE gives a rewritten key a new rowid, so rowid breaks ties between rows stored in the same millisecond.
      put: this.db.prepare<[string, string, number, number | null]>("INSERT OR REPLACE INTO cache (key, value, stored_at, expires_at) VALUES (?, ?, ?, ?)"),
      remove: this.db.prepare<[string]>("DELETE FROM cache WHERE key = ?"),
      purgeExpired: this.db.prepare<[number]>("DELETE FROM cache WHERE expires_at IS NOT NULL AND expires_at <= ?"),
      evict: this.db.prepare<[number]>("DELETE FROM cache WHERE key IN (SELECT key FROM cache ORDER BY stored_at DESC, rowid DESC LIMIT -1 OFFSET ?)"),
      clear: this.db.prepare<[]>("DELETE FROM cache"),
    };
    this.putAndTrim = this.db.transaction((key: string, value: string, storedAt: number, expiresAt: number | undefined) => {
      this.statements.put.run(key, value, storedAt, expiresAt ?? null);
      // Expired rows go first, so eviction only ever drops live entries when it has to.
      this.statements.purgeExpired.run(storedAt);
      this.statements.evict.run(this.maxEntries);
    });
  }

  async get<V>(key: string): Promise<V | undefined> {
    const row = this.statements.get.get(key);
    if (!row) return undefined;
    const now = this.now();
    if (row.expires_at !== null && row.expires_at <= now) {
      // One expired row suggests others: purge them all while we are here (indexed, cheap).
      this.statements.purgeExpired.run(now);
      return undefined;
    }
    return decodeValue<V>(row.value);
  }

  async set<V>(key: string, value: V, ttlMs?: number): Promise<void> {
    const storedAt = this.now();
    const expiresAt = expiryOf(storedAt, ttlMs, this.defaultTtlMs);
    this.putAndTrim(key, encodeValue(value), storedAt, expiresAt);
  }

  async delete(key: string): Promise<void> {
    this.statements.remove.run(key);
  }

  async clear(): Promise<void> {
    this.statements.clear.run();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function openDatabase(path: string): SqliteDatabase {
  return openSqlite(path, SCHEMA, { store: "SQLite cache", instead: "choose the memory cache backend" });
}
