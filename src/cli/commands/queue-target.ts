import { UsageError } from "../../errors.ts";
import { DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from "../../service/bullmq-queue.ts";

/**
 * The BullMQ queue a server or worker uses: `--queue-name` / CONCLAVE_QUEUE and `--prefix` /
 * CONCLAVE_QUEUE_PREFIX. `namespace` is where Conclave's own keys go (event streams, limits, webhook
 * caches): under `:conclave`, since BullMQ owns `<prefix>:<queue>:events` and its other keys.
 */
export function queueTarget(values: { "queue-name"?: string; prefix?: string }, env: NodeJS.ProcessEnv): { queueName: string; prefix: string; namespace: string } {
  const queueName = values["queue-name"] ?? env.CONCLAVE_QUEUE ?? DEFAULT_QUEUE_NAME;
  const prefix = values.prefix ?? env.CONCLAVE_QUEUE_PREFIX ?? DEFAULT_PREFIX;
  return { queueName, prefix, namespace: `${prefix}:${queueName}:conclave` };
}

/** REDIS_URL and DATABASE_URL, or a usage error saying what to set. */
export function requireQueueServices(command: string, env: NodeJS.ProcessEnv): { redisUrl: string; databaseUrl: string } {
  const redisUrl = env.REDIS_URL;
  const databaseUrl = env.DATABASE_URL;
  const missing = [redisUrl ? undefined : "REDIS_URL (e.g. redis://127.0.0.1:6379)", databaseUrl ? undefined : "DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/conclave)"].filter(Boolean);
  if (missing.length) throw new UsageError(`conclave ${command}: set ${missing.join(" and ")}: runs wait on the Redis queue and their checkpoints are shared in PostgreSQL.`);
  return { redisUrl: redisUrl!, databaseUrl: databaseUrl! };
}
