import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "../src/cli/workspace.ts";
import type { Workspace } from "../src/cli/workspace.ts";
import { BullRunQueue } from "../src/service/bullmq-queue.ts";
import { startRunWorker } from "../src/service/worker.ts";
import { ROOT, cleanEnv, runCli } from "./helpers/cli.ts";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("conclave worker without its services", () => {
  it("refuses to start without REDIS_URL and DATABASE_URL, saying what to set", async () => {
    const result = await runCli(["worker"], { env: { REDIS_URL: "" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("REDIS_URL");
    expect(result.stderr).toContain("DATABASE_URL");
  });
});

describe.skipIf(!REDIS_URL || !DATABASE_URL)(`BullMQ queue and conclave worker${REDIS_URL && DATABASE_URL ? "" : " — SKIPPED: REDIS_URL or DATABASE_URL is unset"}`, () => {
  const prefix = `conclave-test-${randomUUID().slice(0, 8)}`;
  let queue: BullRunQueue;
  let workspace: Workspace;

  beforeAll(async () => {
    queue = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "runs" });
    const env = cleanEnv({ DATABASE_URL: DATABASE_URL!, CONCLAVE_CHECKPOINT: "postgres" });
    workspace = await openWorkspace({ stdout: () => undefined, stderr: () => undefined, env, cwd: ROOT }, { flags: { "checkpoint.backend": { value: "postgres", flag: "test" } } });
  });
  afterAll(async () => {
    await queue?.obliterate().catch(() => undefined);
    await queue?.close();
    await workspace?.close();
  });

  it("submit → a worker in this process completes the run; an idempotency key adds no second run", async () => {
    const worker = startRunWorker({ workspace, redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "runs", concurrency: 2 });
    try {
      const first = await queue.submit({ graph: "research", input: "What is 6 * 7?", idempotencyKey: `k-${prefix}` });
      const again = await queue.submit({ graph: "research", input: "What is 6 * 7?", idempotencyKey: `k-${prefix}` });
      expect(again.id).toBe(first.id);
      const done = await until(async () => {
        const run = await queue.get(first.id);
        return run && ["done", "failed", "cancelled"].includes(run.status) ? run : undefined;
      }, "the run to end");
      expect(done.status, done.error).toBe("done");
      expect(done.result?.answer).toContain("42");
      expect((await queue.list()).filter((run) => run.id === first.id)).toHaveLength(1);
    } finally {
      await worker.close();
    }
  }, 30_000);
});
