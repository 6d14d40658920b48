import type pg from "pg";
import { ConfigError } from "../errors.ts";
import type { EffectLedger, EffectRecord } from "./effects.ts";
import { PostgresStore } from "./pg-schema.ts";

/** The SQLite ledger's columns, in PostgreSQL (times are epoch milliseconds, so BIGINT). */
export const POSTGRES_EFFECTS_SCHEMA = `CREATE TABLE IF NOT EXISTS conclave_effects (
  key TEXT PRIMARY KEY, tool TEXT NOT NULL, thread_id TEXT NOT NULL, status TEXT NOT NULL,
  output TEXT, started_at BIGINT NOT NULL, finished_at BIGINT, attempts INTEGER NOT NULL DEFAULT 1)`;

/**
 * Serializes table creation between processes. Two concurrent `CREATE TABLE IF NOT EXISTS` can both
 * miss the table and one then fails on the catalog's unique index; under this transaction-scoped
 * advisory lock the second one finds the table made.
 */

type Row = { key: string; tool: string; status: "started" | "done"; output: string | null; started_at: string | number; attempts: number };

/**
 * The ledger in PostgreSQL, for workers on several machines that share PostgreSQL checkpoints: a
 * run resumed on another machine finds the calls the first one completed, so it does not repeat
 * them. Every method is one statement, so `begin` is atomic across processes.
 *
 * Pass a connection string (the ledger opens a pool and `close()` ends it) or a `pg.Pool` you own
 * (`close()` leaves it open). The table is created on first use, not in the constructor, so
 * opening a workspace does not connect to the server.
 */
export class PostgresEffectLedger extends PostgresStore implements EffectLedger {
  constructor(connection: string | pg.Pool) {
    super(connection, [POSTGRES_EFFECTS_SCHEMA]);
  }

  async get(key: string): Promise<EffectRecord | undefined> {
    const row = await this.one("SELECT * FROM conclave_effects WHERE key = $1", [key]);
    return row ? toRecord(row) : undefined;
  }

  async begin(key: string, tool: string, threadId: string): Promise<EffectRecord> {
    const row = await this.one(
      `INSERT INTO conclave_effects (key, tool, thread_id, status, started_at) VALUES ($1, $2, $3, 'started', $4)
       ON CONFLICT (key) DO UPDATE SET attempts = conclave_effects.attempts + 1 RETURNING *`,
      [key, tool, threadId, Date.now()],
    );
    return toRecord(row!);
  }

  async complete(key: string, output: string): Promise<void> {
    await this.one("UPDATE conclave_effects SET status = 'done', output = $2, finished_at = $3 WHERE key = $1", [key, output, Date.now()]);
  }

  async forget(key: string): Promise<void> {
    await this.one("DELETE FROM conclave_effects WHERE key = $1 AND status = 'started'", [key]);
  }

  private async one(sql: string, values: unknown[]): Promise<Row | undefined> {
    await this.setup();
    const result = await this.pool.query<Row>(sql, values);
    return result.rows[0];
  }

  protected explain(error: unknown): ConfigError {
    return new ConfigError(`Cannot open the PostgreSQL effect ledger at ${this.location}: ${(error as Error).message}. Check that the server is running and DATABASE_URL (or checkpoint.url) is right.`, { cause: error, details: { location: this.location } });
  }
}

function toRecord(row: Row): EffectRecord {
  // BIGINT comes back as a string (pg does not guess at precision); epoch milliseconds fit a number.
  return { key: row.key, tool: row.tool, status: row.status, ...(row.output !== null ? { output: row.output } : {}), startedAt: Number(row.started_at), attempts: row.attempts };
}
