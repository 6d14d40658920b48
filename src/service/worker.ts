import { hostname } from "node:os";
import { QueueEvents, Worker } from "bullmq";
import type { ConnectionOptions, Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Workspace } from "../cli/workspace.ts";
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, RunRecords, cancelKey, redisConnection } from "./bullmq-queue.ts";
import type { RunJobData } from "./bullmq-queue.ts";
import { executeServiceRun } from "./execute-run.ts";
import type { Drive } from "./execute-run.ts";
import type { RunStatusEvent, ServiceEvent, ServiceEventBus } from "./events/types.ts";
import type { ServiceRun } from "./types.ts";

export interface RunWorkerOptions {
  /** Opened with `checkpoint.backend` "postgres": every worker resumes any run from the shared checkpoints. */
  workspace: Workspace;
  redisUrl: string;
  databaseUrl: string;
  queueName?: string;
  prefix?: string;
  /** Jobs at once in this process (default 1). */
  concurrency?: number;
  /** How often BullMQ looks for jobs whose worker died (default 30 s); lock duration is twice it. */
  stalledIntervalMs?: number;
  /** How many times a job may stall before it fails (default 3). */
  maxStalledCount?: number;
  /** How often a running run checks whether it was cancelled (default 500 ms). */
  cancelPollMs?: number;
  /** Progress lines ("started", "resumed", "done") for the operator. */
  log?: (line: string) => void;
  /** Where the runs' events and status changes go (a Redis bus, so `conclave serve` streams them). */
  events?: ServiceEventBus;
  onSettled?: (run: ServiceRun, request: { callbackUrl?: string }) => void;
}

/** Thrown from a job whose run failed, so the job lands in BullMQ's failed set (the dead letters). */
export class RunFailedError extends Error {
  override readonly name = "RunFailedError";
}

export interface RunWorker {
  worker: Worker<RunJobData>;
  /** Waits for the jobs running here to end, then disconnects. */
  close(): Promise<void>;
}

/**
 * A BullMQ worker executing runs through the same path as `conclave serve` (`executeServiceRun`).
 * Every job resumes its thread when the thread already has checkpoints: a job picked up again after
 * its worker died (stall detection) continues from the last checkpoint instead of starting over.
 *
 * BullMQ renews a job's lock from a timer on this process's event loop: work that blocks the loop
 * (long synchronous code in a node or tool) for longer than the lock duration lets another worker
 * take the job as stalled while it still runs. Graph nodes must stay asynchronous (await I/O, move
 * CPU-heavy work to a worker thread).
 */
export function startRunWorker(options: RunWorkerOptions): RunWorker {
  const queueName = options.queueName ?? DEFAULT_QUEUE_NAME;
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const records = new RunRecords(options.databaseUrl, `${prefix}:${queueName}`);
  const redis: Redis = redisConnection(options.redisUrl);
  const me = `${hostname()}:${process.pid}`;
  const log = options.log ?? (() => undefined);
  const { workspace } = options;
  const stalledInterval = options.stalledIntervalMs ?? 30_000;

  // Events are published in order per run: a chain of promises, so a slow write never reorders them.
  let chain = Promise.resolve();
  const publish = (runId: string, event: ServiceEvent) => {
    chain = chain.then(() => options.events?.publish(runId, event)).catch((error: unknown) => log(`could not publish an event of run ${runId}: ${error instanceof Error ? error.message : String(error)}`));
  };
  const status = async (run: ServiceRun, extra: Partial<RunStatusEvent>) => {
    publish(run.id, { type: "run-status", serviceRunId: run.id, graph: run.graph, status: run.status, at: Date.now(), worker: me, ...(run.error ? { error: run.error } : {}), ...extra });
    await chain;
  };

  async function processJob(job: Job<RunJobData>): Promise<string> {
    const { runId, input } = job.data;
    const record = await records.get(runId);
    if (!record) return "unknown run";
    if (["done", "failed", "cancelled"].includes(record.status)) {
      // Its worker died after recording the end and before announcing it: announce it now (once), then settle the job.
      const last = await options.events?.lastEvent(runId).catch(() => undefined);
      if (options.events && !(last?.type === "run-status" && last.status === record.status)) {
        await status(record, {});
        options.onSettled?.(record, await records.callbackOf(runId));
        log(`announced the end of run ${runId} (${record.status}), left unannounced by a worker that died`);
      }
      if (record.status === "failed") throw new RunFailedError(record.error ?? "the run failed");
      return `already ${record.status}`;
    }
    const { pending: _pending, error: _error, ...base } = record;
    const wasRunning = record.status === "running";
    const attempt = job.attemptsMade + 1;
    const running = (await records.save({ ...base, status: "running" }, { worker: me, attempt: true }))!;
    await status(running, { attempt, ...(wasRunning ? { resumed: true } : {}) });
    // A new run also goes through "resume": with no checkpoint yet it starts; with checkpoints (a
    // job taken over from a dead worker) it continues from the last one.
    const drive: Drive = job.data.drive.kind === "new" ? { kind: "resume", decisions: {} } : job.data.drive;
    log(`${wasRunning ? "resuming" : "started"} run ${runId} (job ${job.id}, attempt ${job.attemptsMade + 1}, stalled ${job.stalledCounter ?? 0})`);
    const controller = new AbortController();
    const key = cancelKey(prefix, queueName, runId);
    const poll = setInterval(() => {
      void redis.get(key).then((value) => value && controller.abort(new Error("cancelled through the API")), () => undefined);
    }, options.cancelPollMs ?? 500);
    let settled: ServiceRun;
    try {
      settled = await executeServiceRun(workspace, base, input, drive, controller.signal, publish);
    } catch (error) {
      const message = workspace.redactor.redact(error instanceof Error ? error.message : String(error));
      settled = controller.signal.aborted ? { ...base, status: "cancelled", error: message } : { ...base, status: "failed", error: message };
    } finally {
      clearInterval(poll);
    }
    if (controller.signal.aborted) await redis.del(key).catch(() => undefined);
    // A run cancelled meanwhile stays cancelled.
    const saved = await records.save(settled, { from: ["running"], worker: me });
    if (saved) {
      await status(saved, { attempt });
      options.onSettled?.(saved, await records.callbackOf(runId));
    }
    log(`${settled.status} run ${runId}`);
    // A failed run fails its job: BullMQ's failed set is the dead-letter queue (conclave dlq --queue bullmq, GET /dead-letters).
    if (saved?.status === "failed") throw new RunFailedError(saved.error ?? "the run failed");
    return settled.status;
  }

  const connection = redisConnection(options.redisUrl);
  const worker = new Worker<RunJobData>(queueName, processJob, {
    connection: connection as unknown as ConnectionOptions,
    prefix,
    concurrency: Math.max(1, options.concurrency ?? 1),
    stalledInterval,
    lockDuration: Math.max(stalledInterval * 2, 1_000),
    maxStalledCount: options.maxStalledCount ?? 3,
  });
  worker.on("error", (error) => log(`worker error: ${error.message}`));
  // This machine's thread store (conclave runs / pending) still shows a run it paused as waiting when
  // another process ends it (a cancel through the API, another worker finishing it): follow the stream.
  const unsubscribe = options.events?.subscribe((runId, event) => {
    if (event.type !== "run-status" || !["done", "failed", "cancelled"].includes(event.status) || event.worker === me) return;
    const thread = workspace.threads.get(runId);
    if (thread?.status !== "interrupted") return;
    if (event.status === "done") workspace.threads.ended(runId, "done", {});
    else workspace.threads.ended(runId, "failed", { error: event.status === "cancelled" ? "cancelled through the API while waiting for approval" : `failed on another worker: ${event.error ?? "unknown error"}` });
  });
  // A job that stalled more often than allowed is failed by BullMQ's stall check, not by a worker's
  // processor: no worker records it. Every worker listens; the compare-and-set lets one mark it.
  const eventsConnection = redisConnection(options.redisUrl);
  const queueEvents = new QueueEvents(queueName, { connection: eventsConnection as unknown as ConnectionOptions, prefix });
  queueEvents.on("failed", ({ jobId, failedReason }) => {
    void (async () => {
      const runId = jobId.replace(/-resume-\d+$/, "");
      const record = await records.get(runId);
      if (!record || (record.status !== "queued" && record.status !== "running")) return;
      const saved = await records.fail(record, workspace.redactor.redact(failedReason));
      if (!saved) return;
      await status(saved, {});
      options.onSettled?.(saved, await records.callbackOf(runId));
      log(`failed run ${runId}: ${failedReason}`);
    })().catch((error: unknown) => log(`could not record the failure of job ${jobId}: ${error instanceof Error ? error.message : String(error)}`));
  });
  return {
    worker,
    async close() {
      await worker.close();
      unsubscribe?.();
      await queueEvents.close();
      eventsConnection.disconnect();
      connection.disconnect();
      redis.disconnect();
      await records.close();
    },
  };
}
