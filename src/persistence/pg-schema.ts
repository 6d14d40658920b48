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
 * A pool from a connection string (owned: the caller ends it on close) or one passed in (its
 * owner's), with the server's address without password for messages.
 */
export function poolFrom(connection: string | pg.Pool, max = 4): { pool: pg.Pool; owned: boolean; location: string } {
  if (typeof connection !== "string") return { pool: connection, owned: false, location: "(a pool passed in)" };
  const pool = new pg.Pool({ connectionString: connection, max });
  // An idle connection dropped by the server (a restart) would otherwise be an unhandled 'error' that ends the process; the next query reconnects.
  pool.on("error", () => undefined);
  return { pool, owned: true, location: withoutPassword(connection) };
}
