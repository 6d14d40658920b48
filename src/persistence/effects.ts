import { createHash } from "node:crypto";
import type { SqliteDatabase } from "../resilience/sqlite.ts";

/** A side-effecting tool call the ledger knows of: begun (maybe cut off by a crash) or done, with its observation. */
export interface EffectRecord {
  key: string;
  tool: string;
  status: "started" | "done";
  /** The observation the call returned, once done. */
  output?: string;
  startedAt: number;
  /** How many times the call was begun (more than 1: it was cut off and run again under the same key). */
  attempts: number;
}

/**
 * The dedupe ledger of side-effecting tool calls. A call is `begin`-ed before the tool runs and
 * `complete`-d after; a call found done is answered from here and not run again, so a node that
 * LangGraph re-executes after a crash or an approval does not repeat its effects. A call found
 * begun but not done was cut off mid-way: it runs again under the same idempotency key, which
 * the tool passes to the system it changes so that system can drop the duplicate.
 *
 * Methods may answer synchronously (SQLite, memory) or with a promise (PostgreSQL, shared by
 * workers on several machines); callers always `await` them. `begin` must be atomic: two
 * processes beginning one key both count an attempt.
 */
export interface EffectLedger {
  get(key: string): MaybePromise<EffectRecord | undefined>;
  begin(key: string, tool: string, threadId: string): MaybePromise<EffectRecord>;
  complete(key: string, output: string): MaybePromise<void>;
  /** Drops a call that failed (the tool threw): it did not apply its effect, and a rerun is not a retry after a crash. */
  forget?(key: string): MaybePromise<void>;
}

/** A value, or a promise of it: what a ledger method may return. */
export type MaybePromise<T> = T | Promise<T>;

/** The idempotency key of one tool call: its thread, the checkpoint namespace of its task (LangGraph's task ids are deterministic per checkpoint), and its index among the task's calls. */
export function idempotencyKey(parts: { threadId: string; path: string; callIndex: number | string; tool: string }): string {
  const digest = createHash("sha256").update(JSON.stringify([parts.threadId, parts.path, parts.callIndex, parts.tool])).digest("hex");
  return `effect:v1:${digest.slice(0, 40)}`;
}

/** The ledger's columns; the PostgreSQL ledger (`postgres-effects.ts`) keeps the same ones. */
export const EFFECTS_SCHEMA = `CREATE TABLE IF NOT EXISTS effects (
  key TEXT PRIMARY KEY, tool TEXT NOT NULL, thread_id TEXT NOT NULL, status TEXT NOT NULL,
  output TEXT, started_at INTEGER NOT NULL, finished_at INTEGER, attempts INTEGER NOT NULL DEFAULT 1);`;

type Row = { key: string; tool: string; status: "started" | "done"; output: string | null; started_at: number; attempts: number };

/** The ledger in a SQLite database (the CLI uses `.conclave/runs.sqlite`), shared by every process of the workspace. */
export class SqliteEffectLedger implements EffectLedger {
  constructor(private readonly db: SqliteDatabase) {
    db.exec(EFFECTS_SCHEMA);
  }

  get(key: string): EffectRecord | undefined {
    const row = this.db.prepare("SELECT * FROM effects WHERE key = ?").get(key) as Row | undefined;
    return row ? { key: row.key, tool: row.tool, status: row.status, ...(row.output !== null ? { output: row.output } : {}), startedAt: row.started_at, attempts: row.attempts } : undefined;
  }

  begin(key: string, tool: string, threadId: string): EffectRecord {
    this.db.prepare("INSERT INTO effects (key, tool, thread_id, status, started_at) VALUES (?, ?, ?, 'started', ?) ON CONFLICT(key) DO UPDATE SET attempts = attempts + 1").run(key, tool, threadId, Date.now());
    return this.get(key)!;
  }

  complete(key: string, output: string): void {
    this.db.prepare("UPDATE effects SET status = 'done', output = ?, finished_at = ? WHERE key = ?").run(output, Date.now(), key);
  }

  forget(key: string): void {
    this.db.prepare("DELETE FROM effects WHERE key = ? AND status = 'started'").run(key);
  }
}

/** The ledger in memory: for tests, and for runs that are not resumable anyway. */
export class MemoryEffectLedger implements EffectLedger {
  private readonly records = new Map<string, EffectRecord>();

  get(key: string): EffectRecord | undefined {
    const record = this.records.get(key);
    return record ? { ...record } : undefined;
  }

  begin(key: string, tool: string): EffectRecord {
    const existing = this.records.get(key);
    const record: EffectRecord = existing ? { ...existing, attempts: existing.attempts + 1 } : { key, tool, status: "started", startedAt: Date.now(), attempts: 1 };
    this.records.set(key, record);
    return { ...record };
  }

  complete(key: string, output: string): void {
    const record = this.records.get(key);
    if (record) this.records.set(key, { ...record, status: "done", output });
  }

  forget(key: string): void {
    if (this.records.get(key)?.status === "started") this.records.delete(key);
  }
}
