/**
 * `conclave/service`: the HTTP service, run queues, workers, the run event stream and polling
 * sources, for programs that embed or extend `conclave serve` / `conclave worker`, and for other
 * services that subscribe to run lifecycle events on Redis. Kept out of the main entry point so
 * `import "conclave"` does not load fastify, BullMQ or ioredis.
 *
 * @example Follow every run's status from another service
 * import { RedisEventBus } from "conclave/service";
 * const bus = new RedisEventBus({ redis: process.env.REDIS_URL!, namespace: "conclave:conclave-runs:conclave" });
 * bus.subscribe((runId, event) => event.type === "run-status" && console.log(runId, event.status));
 */
export { createService, HttpError, allowEveryone, runNotification } from "./server.ts";
export type { Service, ServiceOptions, Principal, Authenticate } from "./server.ts";
export { LocalRunQueue, RunStateError } from "./local-queue.ts";
export type { LocalRunQueueOptions } from "./local-queue.ts";
export { BullRunQueue, RunRecords, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from "./bullmq-queue.ts";
export type { BullQueueSettings, RunJobData } from "./bullmq-queue.ts";
export { startRunWorker } from "./worker.ts";
export type { RunWorker, RunWorkerOptions } from "./worker.ts";
export { executeServiceRun } from "./execute-run.ts";
export type { Drive } from "./execute-run.ts";
export type { RunQueue, RunRequest, ServiceRun } from "./types.ts";
export { MemoryEventBus } from "./events/memory-bus.ts";
export type { MemoryEventBusOptions } from "./events/memory-bus.ts";
export { RedisEventBus } from "./events/redis-bus.ts";
export type { RedisEventBusOptions } from "./events/redis-bus.ts";
export { RunStatusEventSchema, RunStatusSchema, ServiceEventSchema, endsStream } from "./events/types.ts";
export type { RunStatus, RunStatusEvent, ServiceEvent, ServiceEventBus, StoredEvent } from "./events/types.ts";
export { ApiKeyStore, KeyStoreUnavailableError } from "./auth/keys.ts";
export type { KeyStore } from "./auth/keys.ts";
export { PostgresApiKeyStore } from "./auth/postgres-keys.ts";
export { ApiKeyLimits } from "./auth/limits.ts";
export { RedisApiKeyLimits, LimitStoreUnavailableError } from "./auth/redis-limits.ts";
export { apiKeyAuthenticate } from "./key-auth.ts";
export * from "./polling/index.ts";
