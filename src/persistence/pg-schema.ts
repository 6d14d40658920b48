import pg from "pg";
import { withoutPassword } from "./checkpointer.ts";

/** The advisory lock every Conclave table creation takes ("conclave" in hex). */
const SCHEMA_LOCK = 0x636f6e636c61;

/**
 * Runs `CREATE TABLE IF NOT EXISTS …` statements under one transaction-scoped advisory lock. Two
 * processes creating the same table at once otherwise race on PostgreSQL's catalog and one fails
 * with a duplicate-key error on pg_type. Errors (including a connection that cannot open) are
 * thrown as they are, for the caller to explain.
 */
export async function createTables(pool: pg.Pool, ...statements: string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    for (const statement of statements) await client.query(statement);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * What Conclave's PostgreSQL stores share: a pool from a connection string (owned: `close()` ends
 * it) or one passed in (its owner's: `close()` leaves it open), the server's address without
 * password for messages, and tables created on first use, not in the constructor, so opening a
 * workspace does not connect. A failed creation is not kept: the next call tries again.
 */
export abstract class PostgresStore {
  protected readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  /** The server (without password), for messages. */
  readonly location: string;
  private ready: Promise<void> | undefined;

  constructor(
    connection: string | pg.Pool,
    private readonly schema: readonly string[],
  ) {
    this.ownsPool = typeof connection === "string";
    this.location = typeof connection === "string" ? withoutPassword(connection) : "(a pool passed in)";
    this.pool = typeof connection === "string" ? new pg.Pool({ connectionString: connection, max: 4 }) : connection;
    // An idle connection dropped by the server (a restart) would otherwise be an unhandled 'error' that ends the process; the next query reconnects.
    if (this.ownsPool) this.pool.on("error", () => undefined);
  }

  /** The store's own error for a server that cannot be reached or used (what to check, where). */
  protected abstract explain(error: unknown): Error;

  /** Creates the tables if they are missing. Called by every method; call it yourself to fail early. */
  setup(): Promise<void> {
    this.ready ??= createTables(this.pool, ...this.schema).catch((error: unknown) => {
      this.ready = undefined;
      throw this.explain(error);
    });
    return this.ready;
  }

  /** Ends the pool the store opened; a pool passed in is its owner's to end. */
  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}
