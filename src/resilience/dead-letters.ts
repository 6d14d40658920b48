import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type Database from "better-sqlite3";
import { ConclaveError } from "../errors.ts";
import { openSqlite } from "./sqlite.ts";

/** Something that exhausted its retries, kept so it can be replayed once the fault is cleared. */
export interface DeadLetter {
  id: string;
  createdAt: number;
  /** What failed: a graph run, or an item of a batch. */
  kind: "run" | "batch-item";
  graph: string;
  /** The task or item input, as given. */
  input: unknown;
  /** Run options worth keeping for a replay (graph options, budget, thread). */
  options: Record<string, unknown>;
  error: { code: string; message: string; category?: string };
  /** HTTP attempts the failing call made (1 + retries). */
  attempts: number;
  /** The failed run's id, to find its logs and traces. */
  traceId: string;
  status: "dead" | "replayed";
  replayedAt?: number;
  /** What the successful replay answered. */
  result?: unknown;
}

interface Row {
  id: string;
  created_at: number;
  kind: string;
  graph: string;
  input: string;
  options: string;
  error: string;
  attempts: number;
  trace_id: string;
  status: string;
  replayed_at: number | null;
  result: string | null;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS dead_letters (
  id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, kind TEXT NOT NULL, graph TEXT NOT NULL,
  input TEXT NOT NULL, options TEXT NOT NULL, error TEXT NOT NULL, attempts INTEGER NOT NULL,
  trace_id TEXT NOT NULL, status TEXT NOT NULL, replayed_at INTEGER, result TEXT)`;

/** The default store, under `.conclave/` in the working folder. */
export const DEFAULT_DLQ_PATH = ".conclave/dlq.sqlite";

/**
 * The dead-letter queue: a SQLite table of runs and batch items that failed for good, with their
 * input, error, attempts and trace id. Nothing is lost: `conclave dlq replay` runs them again.
 */
export class DeadLetterQueue {
  private readonly db: Database.Database;

  constructor(options: { path?: string; cwd?: string } = {}) {
    const path = resolve(options.cwd ?? process.cwd(), options.path ?? DEFAULT_DLQ_PATH);
    this.db = openSqlite(path, SCHEMA, { store: "dead-letter queue", instead: 'set "dlq.path" to a writable file' });
  }

  add(letter: Omit<DeadLetter, "id" | "createdAt" | "status">): DeadLetter {
    const stored: DeadLetter = { ...letter, id: randomUUID().slice(0, 8), createdAt: Date.now(), status: "dead" };
    this.db
      .prepare("INSERT INTO dead_letters (id, created_at, kind, graph, input, options, error, attempts, trace_id, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(stored.id, stored.createdAt, stored.kind, stored.graph, JSON.stringify(stored.input), JSON.stringify(stored.options), JSON.stringify(stored.error), stored.attempts, stored.traceId, stored.status);
    return stored;
  }

  list(status?: DeadLetter["status"]): DeadLetter[] {
    const rows = (status ? this.db.prepare("SELECT * FROM dead_letters WHERE status = ? ORDER BY created_at").all(status) : this.db.prepare("SELECT * FROM dead_letters ORDER BY created_at").all()) as Row[];
    return rows.map(toLetter);
  }

  get(id: string): DeadLetter | undefined {
    const row = this.db.prepare("SELECT * FROM dead_letters WHERE id = ?").get(id) as Row | undefined;
    return row ? toLetter(row) : undefined;
  }

  /** The letter, or an error that says how to find the right id. */
  require(id: string): DeadLetter {
    const letter = this.get(id);
    if (!letter) throw new ConclaveError("DLQ_NOT_FOUND", "user", `No dead letter with id "${id}". Run "conclave dlq list" to see the ids.`, { details: { id } });
    return letter;
  }

  markReplayed(id: string, result: unknown): DeadLetter {
    this.require(id);
    this.db.prepare("UPDATE dead_letters SET status = 'replayed', replayed_at = ?, result = ? WHERE id = ?").run(Date.now(), JSON.stringify(result ?? null), id);
    return this.require(id);
  }

  drop(id: string): void {
    this.require(id);
    this.db.prepare("DELETE FROM dead_letters WHERE id = ?").run(id);
  }

  close(): void {
    this.db.close();
  }
}

function toLetter(row: Row): DeadLetter {
  return {
    id: row.id,
    createdAt: row.created_at,
    kind: row.kind as DeadLetter["kind"],
    graph: row.graph,
    input: JSON.parse(row.input),
    options: JSON.parse(row.options) as Record<string, unknown>,
    error: JSON.parse(row.error) as DeadLetter["error"],
    attempts: row.attempts,
    traceId: row.trace_id,
    status: row.status as DeadLetter["status"],
    ...(row.replayed_at !== null ? { replayedAt: row.replayed_at } : {}),
    ...(row.result !== null ? { result: JSON.parse(row.result) } : {}),
  };
}
