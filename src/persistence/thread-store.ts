import { resolve } from "node:path";
import type { ConclaveEvent } from "../events/types.ts";
import type { PendingApproval } from "../hitl/decisions.ts";
import { ConclaveError } from "../errors.ts";

/** Another live process is running the thread. */
export class ThreadBusyError extends ConclaveError {
  override name = "ThreadBusyError";
  constructor(threadId: string, pid: number) {
    super("THREAD_BUSY", "user", `Thread "${threadId}" is being run by process ${pid}. Wait for it to end (conclave runs shows its status), or stop that process first.`, { details: { threadId, pid } });
  }
}
import { openSqlite } from "../resilience/sqlite.ts";
import type { SqliteDatabase } from "../resilience/sqlite.ts";

/** What `conclave runs` shows for a thread. "running" with a dead process is shown as failed. */
export type ThreadStatus = "running" | "interrupted" | "done" | "failed";

/** One thread: the graph it runs, how it was started, and how its latest run ended. */
export interface ThreadRecord {
  threadId: string;
  graph: string;
  /** The task as given to `conclave run`. */
  task: string;
  /** Graph options (`--max-rounds`, `--agents`, …) so a resume rebuilds the same graph. */
  options: Record<string, unknown>;
  status: ThreadStatus;
  runId: string;
  /** The process running it, while it runs. */
  pid?: number;
  createdAt: number;
  updatedAt: number;
  /** Why it failed or stopped. */
  error?: string;
  /** The answer, once done. */
  answer?: string;
  /** The approvals it waits for, while interrupted. */
  pending: PendingApproval[];
}

export const DEFAULT_RUNS_FILE = ".conclave/runs.sqlite";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS threads (
  thread_id TEXT PRIMARY KEY, graph TEXT NOT NULL, task TEXT NOT NULL, options TEXT NOT NULL,
  status TEXT NOT NULL, run_id TEXT NOT NULL, pid INTEGER, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, error TEXT, answer TEXT, pending TEXT);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, thread_id TEXT NOT NULL,
  at INTEGER NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_thread ON events (thread_id, id);`;

type Row = { thread_id: string; graph: string; task: string; options: string; status: ThreadStatus; run_id: string; pid: number | null; created_at: number; updated_at: number; error: string | null; answer: string | null; pending: string | null };

/**
 * The workspace's record of threads (`.conclave/runs.sqlite`): which graph and task each runs,
 * its status, and the events of its runs (for `conclave metrics` and `inspect`). The graph state
 * itself lives in the checkpointer; this is what lets `conclave run --thread ID` rebuild the
 * graph and `conclave runs` list threads without reading checkpoints.
 */
export class ThreadStore {
  readonly db: SqliteDatabase;

  constructor(options: { cwd: string; path?: string }) {
    this.db = openSqlite(resolve(options.cwd, options.path ?? DEFAULT_RUNS_FILE), SCHEMA, { store: "run store", instead: "run from a writable folder" });
  }

  get(threadId: string): ThreadRecord | undefined {
    const row = this.db.prepare("SELECT * FROM threads WHERE thread_id = ?").get(threadId) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Newest first. A thread whose process died is listed as failed (its stored status says running). */
  list(options: { status?: ThreadStatus; limit?: number } = {}): ThreadRecord[] {
    const limit = options.limit ?? 1_000;
    if (!options.status) return (this.db.prepare("SELECT * FROM threads ORDER BY updated_at DESC, rowid DESC LIMIT ?").all(limit) as Row[]).map(fromRow);
    const stored = options.status === "failed" ? ["failed", "running"] : [options.status];
    const rows = this.db.prepare(`SELECT * FROM threads WHERE status IN (${stored.map(() => "?").join(",")}) ORDER BY updated_at DESC, rowid DESC`).all(...stored) as Row[];
    return rows.map(fromRow).filter((record) => record.status === options.status).slice(0, limit);
  }

  /**
   * A run starts (or resumes) on a thread: it is "running" under this process. Refused when another
   * live process runs it (two `approve`s at once must not both continue the run).
   */
  started(record: Pick<ThreadRecord, "threadId" | "graph" | "task" | "options" | "runId">): void {
    const now = Date.now();
    const claim = this.db.transaction(() => {
      const current = this.db.prepare("SELECT pid, status FROM threads WHERE thread_id = ?").get(record.threadId) as { pid: number | null; status: string } | undefined;
      if (current?.status === "running" && current.pid !== null && current.pid !== process.pid && processAlive(current.pid)) return current.pid;
      this.db
        .prepare(`INSERT INTO threads (thread_id, graph, task, options, status, run_id, pid, created_at, updated_at) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)
          ON CONFLICT(thread_id) DO UPDATE SET status = 'running', run_id = excluded.run_id, pid = excluded.pid, updated_at = excluded.updated_at, error = NULL`)
        .run(record.threadId, record.graph, record.task, JSON.stringify(record.options), record.runId, process.pid, now, now);
      return undefined;
    });
    const holder = claim.immediate();
    if (holder !== undefined) throw new ThreadBusyError(record.threadId, holder);
  }

  /** The run ended: done, paused for approval, or failed (with the reason). */
  ended(threadId: string, status: Exclude<ThreadStatus, "running">, details: { error?: string; answer?: string; pending?: PendingApproval[] } = {}): void {
    this.db.prepare("UPDATE threads SET status = ?, pid = NULL, updated_at = ?, error = ?, answer = COALESCE(?, answer), pending = ? WHERE thread_id = ?").run(status, Date.now(), details.error ?? null, details.answer ?? null, details.pending?.length ? JSON.stringify(details.pending) : null, threadId);
  }

  /** Keeps a run's events (tokens excluded), already redacted by the caller. */
  addEvent(event: ConclaveEvent): void {
    if (event.type === "token") return;
    this.db.prepare("INSERT INTO events (run_id, thread_id, at, type, body) VALUES (?, ?, ?, ?, ?)").run(event.runId, event.threadId, event.at, event.type, JSON.stringify(event));
  }

  /** Every kept event, oldest first, optionally of one thread. */
  *events(threadId?: string): Generator<ConclaveEvent> {
    const statement = threadId ? this.db.prepare("SELECT body FROM events WHERE thread_id = ? ORDER BY id").bind(threadId) : this.db.prepare("SELECT body FROM events ORDER BY id");
    for (const row of statement.iterate() as Iterable<{ body: string }>) yield JSON.parse(row.body) as ConclaveEvent;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function fromRow(row: Row): ThreadRecord {
  const alive = row.status === "running" && row.pid !== null && processAlive(row.pid);
  const died = row.status === "running" && !alive;
  return {
    threadId: row.thread_id,
    graph: row.graph,
    task: row.task,
    options: JSON.parse(row.options) as Record<string, unknown>,
    status: died ? "failed" : row.status,
    runId: row.run_id,
    ...(alive ? { pid: row.pid! } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...(died ? { error: `the process running it (pid ${row.pid ?? "?"}) exited mid-run; resume it with: conclave run --thread ${row.thread_id}` } : row.error ? { error: row.error } : {}),
    ...(row.answer ? { answer: row.answer } : {}),
    pending: row.pending ? (JSON.parse(row.pending) as PendingApproval[]) : [],
  };
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
