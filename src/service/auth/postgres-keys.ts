import type pg from "pg";
import { ApiKeyNotFoundError, KeyStoreUnavailableError, checkKey, keyIdOf, newKeyRow, toInfo } from "./keys.ts";
import type { ApiKeyInfo, ApiKeyRow, CreateKeyOptions, KeyStore, Principal } from "./keys.ts";
import { PostgresStore } from "../../persistence/pg-schema.ts";

/** The SQLite store's columns, in PostgreSQL (times are epoch milliseconds, so BIGINT). */
export const POSTGRES_KEYS_SCHEMA = `CREATE TABLE IF NOT EXISTS conclave_api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BYTEA NOT NULL, scopes TEXT NOT NULL,
  rate_limit_rpm INTEGER, quota_requests INTEGER, created_at BIGINT NOT NULL, revoked_at BIGINT)`;

/**
 * Serializes the table's creation between processes: two concurrent `CREATE TABLE IF NOT EXISTS`
 * can both miss the table and one then fails on the catalog's unique index; under this
 * transaction-scoped advisory lock the second one finds the table made.
 */

type PgRow = Omit<ApiKeyRow, "created_at" | "revoked_at"> & { created_at: string | number; revoked_at: string | number | null };

/**
 * API keys in PostgreSQL, for `conclave serve --queue bullmq` on several machines: a key created
 * (or revoked) through any server or `conclave keys --store postgres` is seen by every server.
 * Same keys, hashing and constant-time check as the SQLite `ApiKeyStore` (only SHA-256 hashes are
 * stored).
 *
 * Nothing is cached: `verify` reads the key's row (by primary key) on every request, so a revoked
 * key is refused by every server from the moment the revoke commits. A database that cannot
 * answer raises `KeyStoreUnavailableError` (503), never an open door.
 *
 * Pass a connection string (the store opens a pool and `close()` ends it) or a `pg.Pool` you own
 * (`close()` leaves it open). The table is created on first use, under an advisory lock.
 */
export class PostgresApiKeyStore extends PostgresStore implements KeyStore {
  constructor(connection: string | pg.Pool) {
    super(connection, [POSTGRES_KEYS_SCHEMA]);
  }

  async createKey(options: CreateKeyOptions): Promise<{ id: string; key: string }> {
    const { key, row } = newKeyRow(options);
    await this.query(
      "INSERT INTO conclave_api_keys (id, name, hash, scopes, rate_limit_rpm, quota_requests, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [row.id, row.name, row.hash, row.scopes, row.rate_limit_rpm, row.quota_requests, row.created_at],
    );
    return { id: row.id, key };
  }

  async verify(key: string): Promise<Principal> {
    const id = keyIdOf(key);
    const rows = id ? await this.query("SELECT * FROM conclave_api_keys WHERE id = $1", [id]) : [];
    return checkKey(key, rows[0]);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    // One statement: a second revoke (from any machine) keeps the first time.
    const [row] = await this.query("UPDATE conclave_api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING *", [id, Date.now()]);
    if (!row) throw new ApiKeyNotFoundError(id);
    return toInfo(row);
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.query("SELECT * FROM conclave_api_keys ORDER BY created_at, id", [])).map(toInfo);
  }

  async hasActiveKeys(): Promise<boolean> {
    return (await this.query("SELECT id FROM conclave_api_keys WHERE revoked_at IS NULL LIMIT 1", [])).length > 0;
  }

  private async query(sql: string, values: unknown[]): Promise<ApiKeyRow[]> {
    await this.setup();
    let rows: PgRow[];
    try {
      rows = (await this.pool.query<PgRow>(sql, values)).rows;
    } catch (error) {
      throw this.explain(error);
    }
    // BIGINT comes back as a string (pg does not guess at precision); epoch milliseconds fit a number.
    return rows.map((row) => ({ ...row, created_at: Number(row.created_at), revoked_at: row.revoked_at === null ? null : Number(row.revoked_at) }));
  }

  protected explain(error: unknown): KeyStoreUnavailableError {
    return new KeyStoreUnavailableError(`Cannot read the PostgreSQL API key store at ${this.location}: ${(error as Error).message}. Check that the server is running and DATABASE_URL is right; requests needing a key are refused with 503 until it answers.`, { cause: error, details: { location: this.location } });
  }
}
