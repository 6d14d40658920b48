import type pg from "pg";

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
