import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { ApiKeyLimits } from "../../service/auth/limits.ts";
import { RedisApiKeyLimits } from "../../service/auth/redis-limits.ts";
import { BullRunQueue, redisConnection } from "../../service/bullmq-queue.ts";
import { RedisEventBus } from "../../service/events/redis-bus.ts";
import { apiKeyAuthenticate } from "../../service/key-auth.ts";
import type { PollerGroup } from "../../service/polling/index.ts";
import { createService } from "../../service/server.ts";
import type { ServiceOptions } from "../../service/server.ts";
import { createNotifier } from "../../service/webhooks/outbound.ts";
import { MemoryIdempotencyStore, RedisIdempotencyStore, WebhookInbox } from "../../service/webhooks/inbound.ts";
import { MemoryReplayCache, RedisReplayCache } from "../../service/webhooks/replay.ts";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliIO } from "../output.ts";
import { openWorkspace } from "../workspace.ts";
import { keyStoreChoice, openKeyStore } from "./keys.ts";
import { queueTarget, requireQueueServices } from "./queue-target.ts";
import { preparePollers } from "./serve-pollers.ts";

const SERVE_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  concurrency: { type: "string" },
  grace: { type: "string" },
  queue: { type: "string" },
  "queue-name": { type: "string" },
  prefix: { type: "string" },
  "key-store": { type: "string" },
  quiet: { type: "boolean" },
} as const;

/**
 * `conclave serve --port N [--host 127.0.0.1] [--queue local|bullmq]`: the HTTP service.
 * - `--queue local` (default): runs execute in this process on the workspace's checkpointer;
 *   SIGINT / SIGTERM give running runs `--grace` seconds, and the next start resumes the rest.
 * - `--queue bullmq`: runs go to the BullMQ queue on REDIS_URL, executed by `conclave worker`
 *   processes on the PostgreSQL checkpoints (DATABASE_URL); events, limits and webhook replay
 *   caches live in Redis, so several servers can sit behind one load balancer.
 * API keys come from PostgreSQL (DATABASE_URL) with `--queue bullmq`, so every server on every
 * machine accepts the same keys, and from `<stateDir>/keys.sqlite` otherwise; `--key-store` or
 * CONCLAVE_KEY_STORE (sqlite|postgres) chooses explicitly.
 */
export async function serveCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("serve", argv, SERVE_OPTIONS);
  if (positionals.length) throw new UsageError(`conclave serve: unexpected argument "${positionals[0]}". Usage: conclave serve --port N [--host 127.0.0.1] [--queue local|bullmq].`);
  const port = portOf(values.port ?? io.env.PORT ?? "8080");
  const host = values.host ?? "127.0.0.1";
  const concurrency = positiveInteger("serve", "concurrency", values.concurrency);
  const graceMs = (positiveInteger("serve", "grace", values.grace) ?? 10) * 1_000;
  const mode = values.queue ?? io.env.CONCLAVE_SERVE_QUEUE ?? "local";
  if (mode !== "local" && mode !== "bullmq") throw new UsageError(`conclave serve: --queue is "local" (runs execute in this process) or "bullmq" (runs go to conclave worker processes through Redis), got "${mode}".`);
  const distributed = mode === "bullmq";
  const services = distributed ? requireQueueServices("serve --queue bullmq", io.env) : undefined;
  // Servers sharing a queue (possibly on several machines) share their API keys in PostgreSQL; one local server keeps <stateDir>/keys.sqlite.
  const keyStore = keyStoreChoice("serve", { name: "--key-store", value: values["key-store"] }, io.env, distributed ? "postgres" : "sqlite");
  const workspace = await openWorkspace(
    services ? { ...io, env: { ...io.env, DATABASE_URL: services.databaseUrl } } : io,
    // The workers write PostgreSQL checkpoints: the server reads the same ones (GET /ready probes them).
    { ...(values.config ? { configFile: values.config } : {}), ...(services ? { flags: { "checkpoint.backend": { value: "postgres", flag: "conclave serve --queue bullmq" } } } : {}) },
  );
  const closers: Array<() => Promise<void> | void> = [];
  try {
    // Checked before listening: a poller naming an unregistered graph stops the start (exit 2).
    const pollers = preparePollers(workspace);
    const logger = values.quiet ? false : { level: "info", stream: { write: (line: string) => io.stderr(workspace.redactor.redact(line)) } };
    // API keys (conclave keys create) are checked once any exists; until then the service is open.
    const keys = openKeyStore(keyStore, workspace.cwd, workspace.config.stateDir);
    closers.push(() => keys.close());
    const keysConfigured = await keys.hasActiveKeys();
    const storeFlag = keyStore.kind === "postgres" ? " --store postgres" : "";
    // Run-completed notifications are signed with CONCLAVE_WEBHOOK_SECRET (environment or secrets file); dead letters after the last try.
    const secret = workspace.env.CONCLAVE_WEBHOOK_SECRET;
    const secrets = secret ? secret.split(",").map((part) => part.trim()).filter(Boolean) : [];
    let options: Omit<ServiceOptions, "workspace" | "logger">;
    if (services) {
      const target = queueTarget(values, io.env);
      const redis = redisConnection(services.redisUrl);
      closers.push(() => redis.disconnect());
      const events = new RedisEventBus({ redis: services.redisUrl, namespace: target.namespace, redact: (text) => workspace.redactor.redact(text) });
      const queue = new BullRunQueue({ redisUrl: services.redisUrl, databaseUrl: services.databaseUrl, queueName: target.queueName, prefix: target.prefix, events }, (text) => workspace.redactor.redact(text));
      closers.push(() => queue.close());
      // Workers send the run-completed notifications (they see the run end); this server verifies inbound ones, with Redis-held replay caches shared by every server.
      options = {
        distributed: { queue, events },
        authenticate: apiKeyAuthenticate(keys, await sharedLimits(services.redisUrl, target.namespace, closers)),
        ...(secrets.length ? { webhooks: { secrets, replayCache: new RedisReplayCache({ client: redis, keyPrefix: `${target.namespace}:webhook:seen:` }), inbox: new WebhookInbox({ store: new RedisIdempotencyStore({ client: redis, keyPrefix: `${target.namespace}:webhook:run:` }) }) } } : {}),
      };
    } else {
      options = {
        authenticate: apiKeyAuthenticate(keys, new ApiKeyLimits()),
        ...(secrets.length ? { notifier: createNotifier({ secret: secrets[0]!, deadLetters: new DeadLetterQueue({ path: join(workspace.cwd, workspace.config.stateDir, "dlq.sqlite") }) }) } : {}),
        ...(secrets.length ? { webhooks: { secrets, replayCache: new MemoryReplayCache(), inbox: new WebhookInbox({ store: new MemoryIdempotencyStore() }) } } : {}),
        ...(concurrency ? { concurrency } : {}),
      };
    }
    const service = createService({ workspace, logger, ...options });
    const stop = new AbortController();
    const onTerm = () => stop.abort();
    process.once("SIGTERM", onTerm);
    let polling: PollerGroup | undefined;
    try {
      const url = await service.app.listen({ port, host });
      const where = services ? ` — runs go to the BullMQ queue ${queueTarget(values, io.env).namespace} (start workers with: conclave worker)` : "";
      io.stderr(`conclave serve: listening on ${url} (OpenAPI at ${url}/openapi.json)${where}${keysConfigured ? ` — API keys required (${keyStore.kind === "postgres" ? "from PostgreSQL" : "from keys.sqlite"})` : host === "127.0.0.1" || host === "localhost" ? ` — no API keys yet: open to this machine (conclave keys create${storeFlag} --scopes run,approve)` : ` — no API keys yet, so anyone who can reach it may call it: create one with conclave keys create${storeFlag}`}\n`);
      polling = pollers?.start(service.queue, values.quiet ? undefined : (line) => io.stderr(`conclave serve: ${workspace.redactor.redact(line)}\n`));
      await new Promise<void>((done) => {
        if (signal.aborted || stop.signal.aborted) return done();
        signal.addEventListener("abort", () => done(), { once: true });
        stop.signal.addEventListener("abort", () => done(), { once: true });
      });
      io.stderr(services ? "conclave serve: shutting down: no new requests; queued and running runs stay with the workers\n" : `conclave serve: shutting down: no new requests; running runs get ${graceMs / 1000}s to finish, then resume on the next start\n`);
      return 0;
    } finally {
      process.off("SIGTERM", onTerm);
      // No new runs from the sources while the service drains.
      await polling?.stop();
      await service.close(graceMs);
    }
  } finally {
    for (const close of closers.reverse()) await close();
    await workspace.close();
  }
}

/** Per-key limits every server shares through Redis (the in-process ones would give each server its own budget). */
async function sharedLimits(redisUrl: string, namespace: string, closers: Array<() => Promise<void> | void>) {
  const limits = new RedisApiKeyLimits({ redis: redisUrl, prefix: `${namespace}:limits` });
  closers.push(() => limits.close());
  return limits;
}

function portOf(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`conclave serve: --port needs a port number (0-65535, 0 picks a free one), got "${value}".`);
  return port;
}
