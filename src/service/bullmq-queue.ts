import { createHash, randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { ConnectionOptions } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import type { ApprovalDecision } from "../hitl/decisions.ts";
import { createTables } from "../persistence/pg-schema.ts";
import type { Drive } from "./execute-run.ts";
import { RunStateError } from "./local-queue.ts";
import type { RunStatusEvent, ServiceEventBus } from "./events/types.ts";
import type { RunQueue, RunRequest, ServiceRun } from "./types.ts";

export const DEFAULT_QUEUE_NAME = "conclave-runs";
export const DEFAULT_PREFIX = "conclave";

/** What a BullMQ job carries: the run, how to drive it, and the input as given (the record keeps it redacted). */
export interface RunJobData {
  runId: string;
  input: string;
  drive: Drive;
}

export interface BullQueueSettings {
  /** Redis connection string (REDIS_URL). */
  redisUrl: string;
  /** PostgreSQL connection string (DATABASE_URL): the run records live in `conclave_service_runs`, keyed by "prefix:queue". */
  databaseUrl: string;
  /** BullMQ queue name (default "conclave-runs"). */
  queueName?: string;
  /** BullMQ key prefix in Redis (default "conclave"): a test uses its own so runs never collide. */
  prefix?: string;
  /** Where status changes are published (the workers publish the runs' events on the same bus). */
  events?: ServiceEventBus;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS conclave_service_runs (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  idempotency_key TEXT,
  status TEXT NOT NULL,
  callback_url TEXT,
  body JSONB NOT NULL,
  worker TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (queue, idempotency_key)
)`;

/** The run records of one queue in PostgreSQL, shared by the API side (BullRunQueue) and the workers. */
export class RunRecords {
  readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;

  constructor(
    databaseUrl: string,
    readonly queue: string,
  ) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  }

  setup(): Promise<void> {
    // A failed attempt is forgotten, so the next call tries again (PostgreSQL may come up later).
    return (this.ready ??= createTables(this.pool, SCHEMA).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    }));
  }

  async insert(record: ServiceRun, callbackUrl: string | undefined): Promise<boolean> {
    await this.setup();
    const result = await this.pool.query("INSERT INTO conclave_service_runs (id, queue, idempotency_key, status, callback_url, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING", [record.id, this.queue, record.idempotencyKey ?? null, record.status, callbackUrl ?? null, JSON.stringify(record), record.createdAt]);
    return (result.rowCount ?? 0) > 0;
  }

  async get(id: string): Promise<ServiceRun | undefined> {
    return (await this.rows("SELECT body FROM conclave_service_runs WHERE queue = $1 AND id = $2", [this.queue, id]))[0];
  }

  async byKey(key: string): Promise<ServiceRun | undefined> {
    return (await this.rows("SELECT body FROM conclave_service_runs WHERE queue = $1 AND idempotency_key = $2", [this.queue, key]))[0];
  }

  async list(options: { status?: ServiceRun["status"]; limit?: number } = {}): Promise<ServiceRun[]> {
    const limit = options.limit ?? 100;
    return options.status ? this.rows("SELECT body FROM conclave_service_runs WHERE queue = $1 AND status = $2 ORDER BY created_at DESC, id DESC LIMIT $3", [this.queue, options.status, limit]) : this.rows("SELECT body FROM conclave_service_runs WHERE queue = $1 ORDER BY created_at DESC, id DESC LIMIT $2", [this.queue, limit]);
  }

  /** Writes the record; with `from`, only while its status is one of those (a compare-and-set). Returns the saved record, or undefined when the status did not match. */
  async save(record: ServiceRun, options: { from?: Array<ServiceRun["status"]>; worker?: string; attempt?: boolean } = {}): Promise<ServiceRun | undefined> {
    await this.setup();
    const saved = { ...record, updatedAt: Date.now() };
    const params: unknown[] = [saved.status, JSON.stringify(saved), this.queue, saved.id, options.worker ?? null, options.attempt ? 1 : 0];
    let sql = "UPDATE conclave_service_runs SET status = $1, body = $2, worker = COALESCE($5, worker), attempts = attempts + $6 WHERE queue = $3 AND id = $4";
    if (options.from) {
      params.push(options.from);
      sql += " AND status = ANY($7)";
    }
    const result = await this.pool.query(sql, params);
    return (result.rowCount ?? 0) > 0 ? saved : undefined;
  }

  /** Records a queued or running run as failed (a job BullMQ failed without its worker recording why); undefined when it had already moved on. */
  fail(record: ServiceRun, error: string): Promise<ServiceRun | undefined> {
    const { pending: _pending, ...rest } = record;
    return this.save({ ...rest, status: "failed", error }, { from: ["queued", "running"] });
  }

  async callbackOf(id: string): Promise<{ callbackUrl?: string }> {
    await this.setup();
    const row = (await this.pool.query("SELECT callback_url FROM conclave_service_runs WHERE queue = $1 AND id = $2", [this.queue, id])).rows[0] as { callback_url: string | null } | undefined;
    return row?.callback_url ? { callbackUrl: row.callback_url } : {};
  }

  private async rows(sql: string, params: unknown[]): Promise<ServiceRun[]> {
    await this.setup();
    return (await this.pool.query(sql, params)).rows.map((row: { body: ServiceRun | string }) => (typeof row.body === "string" ? (JSON.parse(row.body) as ServiceRun) : row.body));
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/** A run in the dead-letter queue (the BullMQ failed set), as `conclave dlq list --queue bullmq` and `GET /dead-letters` show it. */
export interface DeadLetterRun {
  runId: string;
  jobId: string;
  graph: string;
  input: string;
  status: ServiceRun["status"];
  /** Why the job failed: the run's error, or BullMQ's "job stalled more than allowable limit". */
  reason: string;
  attempts: number;
  /** How many times its worker died under it. */
  stalls: number;
  failedAt: number;
}

/** The Redis key a running run's worker watches: set by `cancel`, it aborts the run. */
export function cancelKey(prefix: string, queueName: string, runId: string): string {
  return `${prefix}:${queueName}:cancel:${runId}`;
}

/** A connection BullMQ accepts (workers need `maxRetriesPerRequest: null`). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/**
 * Runs on a BullMQ queue in Redis, executed by `conclave worker` processes; the run records are kept
 * in PostgreSQL (`conclave_service_runs`, next to the checkpoints), so any process can report them.
 * The job id is the run id; a run submitted with an idempotency key gets an id derived from the key,
 * so a repeated key adds no second job even when two submits race.
 */
export class BullRunQueue implements RunQueue {
  readonly queueName: string;
  readonly prefix: string;
  readonly queue: Queue<RunJobData>;
  readonly records: RunRecords;
  private readonly redis: Redis;
  private readonly events: ServiceEventBus | undefined;

  constructor(
    settings: BullQueueSettings,
    private readonly redact: (text: string) => string = (text) => text,
  ) {
    this.events = settings.events;
    this.queueName = settings.queueName ?? DEFAULT_QUEUE_NAME;
    this.prefix = settings.prefix ?? DEFAULT_PREFIX;
    this.redis = redisConnection(settings.redisUrl);
    this.queue = new Queue<RunJobData>(this.queueName, { connection: this.redis as unknown as ConnectionOptions, prefix: this.prefix });
    this.records = new RunRecords(settings.databaseUrl, `${this.prefix}:${this.queueName}`);
  }

  async submit(request: RunRequest): Promise<ServiceRun> {
    if (request.idempotencyKey) {
      const known = await this.records.byKey(request.idempotencyKey);
      if (known) return known;
    }
    const now = Date.now();
    const id = request.idempotencyKey ? idempotentId(this.queueName, request.idempotencyKey) : randomUUID();
    const record: ServiceRun = { id, graph: request.graph, threadId: id, status: "queued", input: this.redact(request.input), createdAt: now, updatedAt: now, ...(request.keyId ? { keyId: request.keyId } : {}), ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}) };
    if (!(await this.records.insert(record, request.callbackUrl))) return (await this.records.get(id)) ?? (await this.records.byKey(request.idempotencyKey!))!;
    // Same jobId, same job: BullMQ ignores a second add while the first exists.
    await this.status(record);
    await this.queue.add("run", { runId: id, input: request.input, drive: { kind: "new" } }, { jobId: id, removeOnComplete: 1000, removeOnFail: 1000 });
    return record;
  }

  get(id: string): Promise<ServiceRun | undefined> {
    return this.records.get(id);
  }

  list(options?: { status?: ServiceRun["status"]; limit?: number }): Promise<ServiceRun[]> {
    return this.records.list(options);
  }

  async cancel(id: string): Promise<boolean> {
    const record = await this.records.get(id);
    if (!record || !["queued", "running", "interrupted"].includes(record.status)) return false;
    if (record.status === "running") {
      // The worker running it polls this key and aborts the run; it then records "cancelled".
      await this.redis.set(cancelKey(this.prefix, this.queueName, id), "1", "EX", 3600);
    }
    // A job still waiting is removed (a locked, running one cannot be: the key above stops it).
    for (const job of await this.queue.getJobs(["waiting", "delayed", "prioritized"])) {
      if (job?.data.runId === id) await job.remove().catch(() => undefined);
    }
    const { pending: _pending, ...rest } = record;
    const saved = await this.records.save({ ...rest, status: "cancelled" }, { from: ["queued", "running", "interrupted"] });
    // The worker's own "cancelled" save then finds the status changed and publishes nothing: one event.
    if (saved) await this.status(saved);
    return true;
  }

  async decide(id: string, decisions: Record<string, unknown> | unknown): Promise<ServiceRun> {
    const record = await this.records.get(id);
    if (!record) throw new RunStateError("RUN_NOT_FOUND", `There is no run "${id}".`);
    if (record.status !== "interrupted" || !record.pending?.length) throw new RunStateError("RUN_NOT_WAITING", `Run "${id}" is ${record.status}, not waiting for an approval.`);
    const byId = decisions as Record<string, ApprovalDecision>;
    for (const key of Object.keys(byId)) {
      if (!record.pending.some((approval) => approval.interruptId === key)) throw new RunStateError("APPROVAL_NOT_FOUND", `Run "${id}" has no pending approval "${key}". Pending: ${record.pending.map((approval) => approval.interruptId).join(", ")}.`);
    }
    // Claimed atomically: of two decisions sent at once, only one continues the run.
    const queued = await this.records.save({ ...record, status: "queued" }, { from: ["interrupted"] });
    if (!queued) throw new RunStateError("RUN_NOT_WAITING", `Run "${id}" is no longer waiting for an approval: another decision continued it.`);
    // Published before the job: a client reconnecting to the event stream follows the resumed run.
    await this.status(queued);
    await this.queue.add("resume", { runId: id, input: record.input, drive: { kind: "resume", decisions: byId } }, { jobId: `${id}-resume-${Date.now()}`, removeOnComplete: 1000, removeOnFail: 1000 });
    return queued;
  }

  /** Redis and PostgreSQL, as `GET /ready` reports them. */
  async ready(): Promise<Record<string, { ok: boolean; error?: string }>> {
    const probe = async (check: () => Promise<unknown>) => {
      try {
        await withTimeout(check(), 2_000);
        return { ok: true };
      } catch (error) {
        return { ok: false, error: this.redact(error instanceof Error ? error.message : String(error)) };
      }
    };
    const [redis, database] = await Promise.all([probe(() => this.redis.ping()), probe(() => this.records.pool.query("SELECT 1"))]);
    return { redis, database };
  }

  /**
   * The dead-letter queue: BullMQ's failed set — runs that failed (the worker records why and fails
   * the job) and jobs that stalled more often than allowed (their workers kept dying). A stalled-out
   * job's record is still "running" when no worker saw it fail: it is marked failed here.
   */
  async deadLetters(options: { limit?: number } = {}): Promise<DeadLetterRun[]> {
    const jobs = await this.queue.getFailed(0, Math.max(1, options.limit ?? 100) - 1);
    const letters: DeadLetterRun[] = [];
    for (const job of jobs) {
      if (!job) continue;
      let record = await this.records.get(job.data.runId);
      if (!record) continue;
      if (record.status === "queued" || record.status === "running") record = (await this.markFailed(record, job.failedReason)) ?? record;
      letters.push({ runId: record.id, jobId: String(job.id), graph: record.graph, input: record.input, status: record.status, reason: job.failedReason ?? record.error ?? "", attempts: job.attemptsMade, stalls: job.stalledCounter ?? 0, failedAt: job.finishedOn ?? record.updatedAt });
    }
    return letters;
  }

  /** Marks a run failed (when a job failed without its worker recording it) and publishes the status. */
  async markFailed(record: ServiceRun, reason: string | undefined): Promise<ServiceRun | undefined> {
    const saved = await this.records.fail(record, this.redact(reason ?? "the job failed"));
    if (saved) await this.status(saved);
    return saved;
  }

  /** Runs a dead letter again: its record goes back to queued and its job is retried, resuming the thread from its last checkpoint. */
  async retryDeadLetter(runId: string): Promise<ServiceRun> {
    const job = (await this.queue.getFailed(0, -1)).find((candidate) => candidate?.data.runId === runId);
    if (!job) throw new RunStateError("RUN_NOT_FOUND", `Run "${runId}" is not in the dead-letter queue (the queue's failed set). conclave dlq list --queue bullmq lists it.`);
    const record = await this.records.get(runId);
    if (!record) throw new RunStateError("RUN_NOT_FOUND", `There is no run "${runId}".`);
    const { error: _error, ...rest } = record;
    const queued = await this.records.save({ ...rest, status: "queued" }, { from: ["failed", "queued", "running"] });
    if (!queued) throw new RunStateError("RUN_NOT_WAITING", `Run "${runId}" is ${record.status}: only a failed run can be retried.`);
    await this.status(queued);
    await job.retry("failed");
    return queued;
  }

  /** Removes a dead letter; its run stays failed. */
  async dropDeadLetter(runId: string): Promise<boolean> {
    const job = (await this.queue.getFailed(0, -1)).find((candidate) => candidate?.data.runId === runId);
    if (!job) return false;
    await job.remove();
    return true;
  }

  /** How many jobs wait, run, failed (the dead letters) and so on, for `/metrics`. */
  counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed", "completed");
  }

  private async status(run: ServiceRun): Promise<void> {
    const event: RunStatusEvent = { type: "run-status", serviceRunId: run.id, graph: run.graph, status: run.status, at: Date.now() };
    await this.events?.publish(run.id, event);
  }

  /** Removes every job and key of this queue (tests; an operator clearing a queue). */
  async obliterate(): Promise<void> {
    await this.queue.obliterate({ force: true });
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
    await this.records.close();
  }
}

/** A UUID-shaped id derived from the queue and an idempotency key. */
export function idempotentId(queueName: string, key: string): string {
  const hex = createHash("sha256").update(`${queueName}\0${key}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
