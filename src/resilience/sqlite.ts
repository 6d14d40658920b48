import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { ConfigError } from "../errors.ts";

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating its folder) a SQLite file for one of Conclave's local stores — cache, dead
 * letters, review queue — in WAL mode with a short busy wait, since another process may use the
 * same file, and applies its schema. A failure says which store, where, and what else to use.
 */
export function openSqlite(path: string, schema: string, what: { store: string; instead: string }): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    db.exec(schema);
    return db;
  } catch (error) {
    db?.close();
    throw new ConfigError(`Cannot open the ${what.store} at ${path}: ${(error as Error).message}. Fix the path (or its folder's permissions), or ${what.instead}.`, { details: { path }, cause: error });
  }
}
