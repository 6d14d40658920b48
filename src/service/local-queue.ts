import { randomUUID } from "node:crypto";
import type { ApprovalDecision } from "../hitl/decisions.ts";
import type { Workspace } from "../cli/workspace.ts";
import { executeServiceRun } from "./execute-run.ts";
import type { Drive } from "./execute-run.ts";
import type { RunStatusEvent, ServiceEvent } from "./events/types.ts";
import type { RunQueue, RunRequest, ServiceRun } from "./types.ts";

export const DEFAULT_CONCURRENCY = 4;

export interface LocalRunQueueOptions {
  workspace: Workspace;
  /** Most runs executing at once (default 4); the rest wait in order. */
  concurrency?: number;
  /** Every event of every run, and its status changes, with the service run's id (the event bus: SSE and /metrics). */
  publish?: (runId: string, event: ServiceEvent) => void;
  /** A run stopped: done, failed, cancelled, or paused for approval (webhooks plug in here). */
  onSettled?: (run: ServiceRun, request: { callbackUrl?: string }) => void;
}


const SCHEMA = `CREATE TABLE IF NOT EXISTS service_runs (
  id TEXT PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  status TEXT NOT NULL,
  callback_url TEXT,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
)`;

/**
 * Runs in this process, at most `concurrency` at a time, through the same path as `conclave run`:
 * the registered graph, the workspace's checkpointer, effect ledger, redaction and observers. The
 * runs are kept in the workspace's runs.sqlite (table `service_runs`, next to the threads, which
 * `conclave runs` also shows), so a run approved here can be inspected from the CLI.
 */
export class LocalRunQueue implements RunQueue {
  private readonly workspace: Workspace;
  private readonly concurrency: number;
  private readonly waiting: Array<{ id: string; drive: Drive }> = [];
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closed = false;

  constructor(private readonly options: LocalRunQueueOptions) {
    this.workspace = options.workspace;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.workspace.threads.db.exec(SCHEMA);
    // Runs a stopped server left behind: queued ones start again; running ones resume from their last checkpoint.
    for (const stale of this.rows("SELECT body FROM service_runs WHERE status IN ('queued', 'running') ORDER BY created_at")) {
      this.enqueue(stale.id, stale.status === "running" ? { kind: "resume", decisions: {} } : { kind: "new" });
    }
  }

  async submit(request: RunRequest): Promise<ServiceRun> {
    if (this.closed) throw new Error("the run queue is closed: the server is shutting down");
    if (request.idempotencyKey) {
      const known = this.rows("SELECT body FROM service_runs WHERE idempotency_key = ?", request.idempotencyKey)[0];
      if (known) return known;
    }
    const now = Date.now();
    const id = randomUUID();
    const record: ServiceRun = { id, graph: request.graph, threadId: id, status: "queued", input: this.workspace.redactor.redact(request.input), createdAt: now, updatedAt: now, ...(request.keyId ? { keyId: request.keyId } : {}), ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}) };
    const inserted = this.workspace.threads.db.prepare("INSERT INTO service_runs (id, idempotency_key, status, callback_url, body, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING").run(id, request.idempotencyKey ?? null, record.status, request.callbackUrl ?? null, JSON.stringify(record), now);
    if (inserted.changes === 0) return this.rows("SELECT body FROM service_runs WHERE idempotency_key = ?", request.idempotencyKey)[0]!;
    this.inputs.set(id, request.input);
    this.status(record);
    this.enqueue(id, { kind: "new" });
    return record;
  }

  async get(id: string): Promise<ServiceRun | undefined> {
    return this.rows("SELECT body FROM service_runs WHERE id = ?", id)[0];
  }

  async list(options: { status?: ServiceRun["status"]; limit?: number } = {}): Promise<ServiceRun[]> {
    const limit = options.limit ?? 100;
    return options.status ? this.rows("SELECT body FROM service_runs WHERE status = ? ORDER BY created_at DESC, rowid DESC LIMIT ?", options.status, limit) : this.rows("SELECT body FROM service_runs ORDER BY created_at DESC, rowid DESC LIMIT ?", limit);
  }

  async cancel(id: string): Promise<boolean> {
    const record = await this.get(id);
    if (!record || !["queued", "running", "interrupted"].includes(record.status)) return false;
    const index = this.waiting.findIndex((item) => item.id === id);
    if (index >= 0) this.waiting.splice(index, 1);
    const running = this.active.get(id);
    if (running) {
      running.controller.abort(new Error("cancelled through the API"));
      await running.done;
    }
    const { pending, ...rest } = (await this.get(id))!;
    // A paused thread no longer waits for anyone: `conclave pending` must not list it.
    if (record.status === "interrupted" && pending?.length) this.workspace.threads.ended(record.threadId, "failed", { error: "cancelled through the API while waiting for approval" });
    const saved = this.save({ ...rest, status: "cancelled" });
    // A running run reported "cancelled" itself when it stopped.
    if (!running) this.status(saved);
    return true;
  }

  async decide(id: string, decisions: Record<string, unknown> | unknown): Promise<ServiceRun> {
    const record = await this.get(id);
    if (!record) throw new RunStateError("RUN_NOT_FOUND", `There is no run "${id}".`);
    if (record.status !== "interrupted" || !record.pending?.length) throw new RunStateError("RUN_NOT_WAITING", `Run "${id}" is ${record.status}, not waiting for an approval.`);
    const byId = decisions as Record<string, ApprovalDecision>;
    for (const key of Object.keys(byId)) {
      if (!record.pending.some((approval) => approval.interruptId === key)) throw new RunStateError("APPROVAL_NOT_FOUND", `Run "${id}" has no pending approval "${key}". Pending: ${record.pending.map((approval) => approval.interruptId).join(", ")}.`);
    }
    // Claimed atomically: of two decisions sent at once, only one continues the run.
    const queued = { ...record, status: "queued" as const, updatedAt: Date.now() };
    const claimed = this.workspace.threads.db.prepare("UPDATE service_runs SET status = 'queued', body = ? WHERE id = ? AND status = 'interrupted'").run(JSON.stringify(queued), id);
    if (claimed.changes === 0) throw new RunStateError("RUN_NOT_WAITING", `Run "${id}" is no longer waiting for an approval: another decision continued it.`);
    // Published before the answer: a client reconnecting right after follows the resumed run.
    this.status(queued);
    this.enqueue(id, { kind: "resume", decisions: byId });
    return queued;
  }

  /** Stops taking runs, lets running ones finish for `graceMs` (they checkpoint after every step), then cancels them: they resume on the next start. */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    this.waiting.length = 0;
    const running = [...this.active.values()];
    const timer = new Promise((done) => setTimeout(done, graceMs).unref());
    await Promise.race([Promise.all(running.map((item) => item.done)), timer]);
    for (const item of this.active.values()) item.controller.abort(new Error("the server is shutting down"));
    await Promise.all([...this.active.values()].map((item) => item.done));
  }

  private readonly inputs = new Map<string, string>();

  private enqueue(id: string, drive: Drive): void {
    this.waiting.push({ id, drive });
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.waiting.length) {
      const { id, drive } = this.waiting.shift()!;
      const controller = new AbortController();
      const done = this.execute(id, drive, controller.signal).finally(() => {
        this.active.delete(id);
        this.pump();
      });
      this.active.set(id, { controller, done });
    }
  }

  private async execute(id: string, drive: Drive, signal: AbortSignal): Promise<void> {
    const record = await this.get(id);
    if (!record) return;
    const { pending: _pending, error: _error, ...base } = record;
    const resumed = record.status === "running";
    this.status(this.save({ ...base, status: "running" }), resumed ? { resumed } : {});
    const input = this.inputs.get(id) ?? record.input;
    let settled: ServiceRun;
    try {
      settled = await this.drive(base, input, drive, signal);
    } catch (error) {
      const message = this.workspace.redactor.redact(error instanceof Error ? error.message : String(error));
      settled = signal.aborted ? { ...base, status: this.closed ? "queued" : "cancelled", error: message } : { ...base, status: "failed", error: message };
    }
    this.inputs.delete(id);
    // A run cancelled while stopping the server stays "running" in the table, so the next start resumes it.
    const saved = this.save(this.closed && signal.aborted ? { ...settled, status: "running" } : settled);
    if (saved.status !== "running") this.status(saved);
    this.options.onSettled?.(saved, this.callbackOf(id));
  }

  /** As `executeThread` does for the CLI, without the terminal (shared with the BullMQ worker). */
  private drive(record: ServiceRun, input: string, drive: Drive, signal: AbortSignal): Promise<ServiceRun> {
    return executeServiceRun(this.workspace, record, input, drive, signal, this.options.publish);
  }

  private status(run: ServiceRun, extra: Partial<RunStatusEvent> = {}): void {
    this.options.publish?.(run.id, { type: "run-status", serviceRunId: run.id, graph: run.graph, status: run.status, at: Date.now(), worker: `local:${process.pid}`, ...(run.error ? { error: run.error } : {}), ...extra });
  }

  private callbackOf(id: string): { callbackUrl?: string } {
    const row = this.workspace.threads.db.prepare("SELECT callback_url FROM service_runs WHERE id = ?").get(id) as { callback_url: string | null } | undefined;
    return row?.callback_url ? { callbackUrl: row.callback_url } : {};
  }

  private save(record: ServiceRun): ServiceRun {
    const saved = { ...record, updatedAt: Date.now() };
    this.workspace.threads.db.prepare("UPDATE service_runs SET status = ?, body = ? WHERE id = ?").run(saved.status, JSON.stringify(saved), saved.id);
    return saved;
  }

  private rows(sql: string, ...params: unknown[]): ServiceRun[] {
    return (this.workspace.threads.db.prepare(sql).all(...params) as Array<{ body: string }>).map((row) => JSON.parse(row.body) as ServiceRun);
  }
}

/** A request about a run that its state does not allow (unknown run, not waiting, unknown approval). */
export class RunStateError extends Error {
  constructor(
    readonly code: "RUN_NOT_FOUND" | "RUN_NOT_WAITING" | "APPROVAL_NOT_FOUND",
    message: string,
  ) {
    super(message);
    this.name = "RunStateError";
  }
}
