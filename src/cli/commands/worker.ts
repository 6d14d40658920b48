import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import { loadGraph, readRegistry } from "../../graph/registry.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { RedisEventBus } from "../../service/events/redis-bus.ts";
import { runNotification } from "../../service/server.ts";
import { createNotifier } from "../../service/webhooks/outbound.ts";
import { startRunWorker } from "../../service/worker.ts";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliIO } from "../output.ts";
import { openWorkspace } from "../workspace.ts";
import { queueTarget, requireQueueServices } from "./queue-target.ts";

const WORKER_OPTIONS = {
  concurrency: { type: "string" },
  "queue-name": { type: "string" },
  prefix: { type: "string" },
  quiet: { type: "boolean" },
} as const;

/**
 * `conclave worker --concurrency N`: executes runs from the BullMQ queue (REDIS_URL) with the
 * PostgreSQL checkpointer (DATABASE_URL), so any worker resumes a run another one left. SIGINT /
 * SIGTERM stop taking jobs and wait for the running ones.
 */
export async function workerCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("worker", argv, WORKER_OPTIONS);
  if (positionals.length) throw new UsageError(`conclave worker: unexpected argument "${positionals[0]}". Usage: conclave worker [--concurrency N].`);
  const concurrency = positiveInteger("worker", "concurrency", values.concurrency) ?? 1;
  const { redisUrl, databaseUrl } = requireQueueServices("worker", io.env);
  const stalledIntervalMs = wholeEnv(io.env, "CONCLAVE_WORKER_STALLED_MS", 1);
  const maxStalledCount = wholeEnv(io.env, "CONCLAVE_WORKER_MAX_STALLED", 0);
  // Every worker must see every checkpoint: PostgreSQL, whatever the configuration says.
  const workspace = await openWorkspace({ ...io, env: { ...io.env, DATABASE_URL: databaseUrl } }, { ...(values.config ? { configFile: values.config } : {}), flags: { "checkpoint.backend": { value: "postgres", flag: "conclave worker" } } });
  const { queueName, prefix, namespace } = queueTarget(values, io.env);
  await workspace.checkpointer();
  // Imported before taking jobs: loading a graph's modules is synchronous work that, on a first job,
  // could hold the event loop past the job lock on a slow machine.
  const warm = workspace.config.defaultGraph ?? readRegistry(workspace.config, workspace.cwd)[0]?.name;
  if (warm) await loadGraph(warm, workspace.config, workspace.cwd).catch((error: unknown) => io.stderr(`conclave worker: could not preload graph "${warm}": ${error instanceof Error ? error.message : String(error)}\n`));
  // The runs' events go to Redis, where every `conclave serve --queue bullmq` streams them (SSE) and counts them (/metrics).
  const events = new RedisEventBus({ redis: redisUrl, namespace, redact: (text) => workspace.redactor.redact(text) });
  // This worker sees its runs end, so it sends their signed run-completed notifications (CONCLAVE_WEBHOOK_SECRET).
  const secret = workspace.env.CONCLAVE_WEBHOOK_SECRET?.split(",")[0]?.trim();
  const notifier = secret ? createNotifier({ secret, deadLetters: new DeadLetterQueue({ path: join(workspace.cwd, workspace.config.stateDir, "dlq.sqlite") }) }) : undefined;
  const running = startRunWorker({
    workspace,
    redisUrl,
    databaseUrl,
    queueName,
    prefix,
    concurrency,
    events,
    ...(notifier ? { onSettled: (run, request) => void (request.callbackUrl && notifier.notify(request.callbackUrl, runNotification(run))) } : {}),
    ...(stalledIntervalMs ? { stalledIntervalMs } : {}),
    ...(maxStalledCount !== undefined ? { maxStalledCount } : {}),
    log: values.quiet ? undefined : (line) => io.stderr(`conclave worker: ${line}\n`),
  });
  const stop = new AbortController();
  const onTerm = () => stop.abort();
  process.once("SIGTERM", onTerm);
  try {
    await running.worker.waitUntilReady();
    io.stderr(`conclave worker: taking runs from ${prefix}:${queueName} (concurrency ${concurrency}, pid ${process.pid})\n`);
    await new Promise<void>((done) => {
      if (signal.aborted || stop.signal.aborted) return done();
      signal.addEventListener("abort", () => done(), { once: true });
      stop.signal.addEventListener("abort", () => done(), { once: true });
    });
    io.stderr("conclave worker: stopping: no new jobs; waiting for the running ones\n");
    return 0;
  } finally {
    process.off("SIGTERM", onTerm);
    await running.close();
    await events.close();
    await workspace.close();
  }
}

function wholeEnv(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new UsageError(`conclave worker: ${name} needs a whole number of at least ${min}, got "${value}".`);
  return parsed;
}
