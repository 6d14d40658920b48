import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "../src/cli/workspace.ts";
import type { Workspace } from "../src/cli/workspace.ts";
import { BullRunQueue } from "../src/service/bullmq-queue.ts";
import { RedisEventBus } from "../src/service/events/redis-bus.ts";
import type { ServiceRun } from "../src/service/types.ts";
import { startRunWorker } from "../src/service/worker.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer, RecordedRequest, ScriptedReply } from "../src/testing/index.ts";
import { ROOT, cleanEnv, runCli } from "./helpers/cli.ts";
import { mailerModel } from "./helpers/mailer-model.ts";
import { spawnCli, until } from "./helpers/processes.ts";
import type { CliProcess } from "./helpers/processes.ts";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const BIN = join(ROOT, "src/cli/bin.js");

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

  it("cancels a waiting run (its job is removed, no worker runs it) and continues a paused run with a decision", async () => {
    const waiting = await queue.submit({ graph: "research", input: "What is 2 * 7?" });
    expect(await queue.cancel(waiting.id)).toBe(true);
    expect((await queue.get(waiting.id))?.status).toBe("cancelled");
    expect(await queue.queue.getJob(waiting.id)).toBeUndefined();
    expect(await queue.cancel(waiting.id)).toBe(false);
    // The mailroom pauses before send_mail; a scripted endpoint plays the mailer.
    const mailer = await startFakeOpenAIServer();
    mailer.setFallback({ kind: "respond", handler: mailerModel });
    const approving = await openWorkspace({ stdout: () => undefined, stderr: () => undefined, env: cleanEnv({ DATABASE_URL: DATABASE_URL!, OPENAI_BASE_URL: mailer.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0" }), cwd: ROOT }, { configFile: join(ROOT, "test/fixtures/mailroom.config.json"), flags: { "checkpoint.backend": { value: "postgres", flag: "test" } } });
    const worker = startRunWorker({ workspace: approving, redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "runs" });
    try {
      const paused = await queue.submit({ graph: "mailroom", input: "the report is ready" });
      const interrupted = await until(async () => {
        const run = await queue.get(paused.id);
        return run && run.status !== "queued" && run.status !== "running" ? run : undefined;
      }, "the run to pause");
      expect(interrupted.status, interrupted.error).toBe("interrupted");
      const interruptId = interrupted.pending![0]!.interruptId;
      await expect(queue.decide(paused.id, { nope: { decision: "approve" } })).rejects.toThrow(/no pending approval/);
      await queue.decide(paused.id, Object.fromEntries(interrupted.pending!.map((approval) => [approval.interruptId, { decision: "approve", actor: "test" }])));
      await expect(queue.decide(paused.id, { [interruptId]: { decision: "approve" } })).rejects.toThrow(/not waiting|no longer waiting/);
      // The mailroom may pause again for its next recipient: approve each until the run ends.
      let done: ServiceRun;
      for (let round = 0; ; round++) {
        done = await until(async () => {
          const run = await queue.get(paused.id);
          return run && ["done", "failed", "cancelled", "interrupted"].includes(run.status) ? run : undefined;
        }, "the approved run to go on");
        if (done.status !== "interrupted" || round > 3) break;
        await queue.decide(paused.id, Object.fromEntries(done.pending!.map((approval) => [approval.interruptId, { decision: "approve", actor: "test" }])));
      }
      expect(done.status, JSON.stringify(done)).toBe("done");
      expect(done.result?.answer).toContain("done:");
    } finally {
      await worker.close();
      await approving.close();
      await mailer.close();
    }
  }, 30_000);

  it("cancels a running run: the worker sees the Redis key, aborts the run and leaves it cancelled", async () => {
    const hanging = await startFakeOpenAIServer();
    hanging.setFallback({ kind: "hang" });
    const slow = await openWorkspace({ stdout: () => undefined, stderr: () => undefined, env: cleanEnv({ DATABASE_URL: DATABASE_URL!, OPENAI_BASE_URL: hanging.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0" }), cwd: ROOT }, { flags: { "checkpoint.backend": { value: "postgres", flag: "test" } } });
    const lines: string[] = [];
    const worker = startRunWorker({ workspace: slow, redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "runs", cancelPollMs: 100, log: (line) => lines.push(line) });
    try {
      const running = await queue.submit({ graph: "research", input: "What is 4 * 7?" });
      await until(async () => hanging.requests.length > 0 && (await queue.get(running.id))?.status === "running", "the run to wait on the model");
      expect(await queue.cancel(running.id)).toBe(true);
      await until(async () => lines.includes(`cancelled run ${running.id}`), "the worker to abort the run", 10_000);
      const after = await queue.get(running.id);
      expect(after?.status).toBe("cancelled");
      expect(await queue.cancel(running.id)).toBe(false);
    } finally {
      await worker.close();
      await slow.close();
      await hanging.close();
    }
  }, 30_000);

  it("cancelling a paused run through the queue ends the thread in the store of the worker that paused it", async () => {
    const mailer = await startFakeOpenAIServer();
    mailer.setFallback({ kind: "respond", handler: mailerModel });
    const events = new RedisEventBus({ redis: REDIS_URL!, namespace: `${prefix}:paused:conclave`, idleCheckMs: 100 });
    const paused = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "paused", events });
    const approving = await openWorkspace({ stdout: () => undefined, stderr: () => undefined, env: cleanEnv({ DATABASE_URL: DATABASE_URL!, OPENAI_BASE_URL: mailer.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-worker-")) }), cwd: ROOT }, { configFile: join(ROOT, "test/fixtures/mailroom.config.json"), flags: { "checkpoint.backend": { value: "postgres", flag: "test" } } });
    const worker = startRunWorker({ workspace: approving, redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "paused", events });
    try {
      const run = await paused.submit({ graph: "mailroom", input: "Email ana: lunch?" });
      await until(async () => (await paused.get(run.id))?.status === "interrupted", "the run to pause");
      expect(approving.threads.get(run.threadId)?.status).toBe("interrupted");
      expect(await paused.cancel(run.id)).toBe(true);
      const ended = await until(() => (approving.threads.get(run.threadId)?.status === "failed" ? approving.threads.get(run.threadId) : undefined), "the worker's thread store to end the thread", 10_000);
      expect(ended.error).toContain("cancelled through the API");
      expect(ended.pending ?? []).toEqual([]);
    } finally {
      await worker.close();
      await paused.obliterate().catch(() => undefined);
      await paused.close();
      await events.close();
      await approving.close();
      await mailer.close();
    }
  }, 30_000);

  it("a worker that takes over a run already recorded done (its worker died before announcing it) announces the end once", async () => {
    const events = new RedisEventBus({ redis: REDIS_URL!, namespace: `${prefix}:announce:conclave`, idleCheckMs: 100 });
    const announce = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "announce", events });
    const lines: string[] = [];
    try {
      const submitted = await announce.submit({ graph: "research", input: "What is 5 * 7?" });
      // What a worker killed right after its final save leaves: the record done, the stream not told.
      await announce.records.save({ ...submitted, status: "done", result: { answer: "35", citations: [] } });
      const worker = startRunWorker({ workspace, redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "announce", events, log: (line) => lines.push(line) });
      try {
        await until(async () => (await events.lastEvent(submitted.id))?.type === "run-status" && ((await events.lastEvent(submitted.id)) as { status: string }).status === "done", "the end to be announced", 10_000);
        // The same job again (BullMQ redelivers a stalled job) finds the end announced: no second one.
        await announce.queue.add("run", { runId: submitted.id, input: submitted.input, drive: { kind: "new" } }, { jobId: `${submitted.id}-again` });
        await until(async () => (await announce.queue.getJob(`${submitted.id}-again`))?.finishedOn, "the second job to finish", 10_000);
      } finally {
        await worker.close();
      }
      const statuses: string[] = [];
      for await (const { event } of events.read(submitted.id, undefined, AbortSignal.timeout(5_000))) if (event.type === "run-status") statuses.push((event as { status: string }).status);
      expect(statuses).toEqual(["queued", "done"]);
      expect(lines.filter((line) => line.startsWith(`announced the end of run ${submitted.id}`))).toHaveLength(1);
      expect((await announce.get(submitted.id))?.result?.answer).toBe("35");
    } finally {
      await announce.obliterate().catch(() => undefined);
      await announce.close();
      await events.close();
    }
  }, 30_000);

  it("a job whose worker dies more often than CONCLAVE_WORKER_MAX_STALLED allows fails into the dead-letter queue, and its run is marked failed (not left running)", async () => {
    const hanging = await startFakeOpenAIServer();
    hanging.setFallback({ kind: "hang" });
    const stalls = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "stalls" });
    // No stall is forgiven: the first time its worker dies, the job fails.
    const env = cleanEnv({ REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "stalls", CONCLAVE_WORKER_STALLED_MS: "1000", CONCLAVE_WORKER_MAX_STALLED: "0", OPENAI_BASE_URL: hanging.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-worker-")) });
    const doomed = spawnCli(["worker"], { env });
    let survivor: CliProcess | undefined;
    try {
      await doomed.waitFor(/taking runs from/);
      const submitted = await stalls.submit({ graph: "research", input: "What is 3 * 7?" });
      await until(async () => hanging.requests.length > 0 && (await stalls.get(submitted.id))?.status === "running", "the run to wait on the model");
      doomed.process.kill("SIGKILL");
      await doomed.exit;
      survivor = spawnCli(["worker"], { env });
      const failed = await until(async () => {
        const run = await stalls.get(submitted.id);
        return run?.status === "failed" ? run : undefined;
      }, "the stalled-out run to be marked failed", 30_000);
      expect(failed.error).toContain("stalled more than allowable limit");
      const letters = await stalls.deadLetters();
      expect(letters.map((letter) => letter.runId)).toEqual([submitted.id]);
      expect(letters[0]!.reason).toContain("stalled");
      expect(survivor.stderr).toContain(`failed run ${submitted.id}`);
    } finally {
      doomed.process.kill("SIGKILL");
      await survivor?.stop(5_000);
      await stalls.obliterate().catch(() => undefined);
      await stalls.close();
      await hanging.close();
    }
  }, 60_000);

  describe("scale-out: worker processes share the queue and the checkpoints", () => {
    let server: FakeOpenAIServer;
    let db: pg.Pool;
    const workers: Array<{ process: ChildProcess; stderr: string; exit: Promise<unknown> }> = [];
    /** The question whose second model call hangs once: its worker is killed while it waits. */
    let victim: { question: string; at: number } | undefined;

    function questionOf(request: RecordedRequest): string {
      const user = [...request.body.messages].reverse().find((message: { role: string }) => message.role === "user") as { content: string };
      return String(user.content);
    }

    /** The research ReAct loop, scripted: first the calculator, then the answer from its result. */
    function script(request: RecordedRequest): ScriptedReply {
      const messages = request.body.messages as Array<{ role: string; content: string | null }>;
      const question = questionOf(request);
      if (messages.at(-1)!.role !== "tool") {
        const expression = /What is (\d+ \* 7)\?/.exec(question)?.[1] ?? "1 * 1";
        return { kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression } }] };
      }
      if (!victim) {
        victim = { question, at: Date.now() };
        return { kind: "hang" };
      }
      return { kind: "text", content: `Computed: ${String(messages.at(-1)!.content)}` };
    }

    beforeAll(async () => {
      server = await startFakeOpenAIServer();
      server.setFallback({ kind: "respond", handler: script });
      db = new pg.Pool({ connectionString: DATABASE_URL!, max: 2 });
    });
    afterAll(async () => {
      for (const worker of workers) if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill("SIGKILL");
      await Promise.all(workers.map((worker) => worker.exit));
      await db?.end();
      await server?.close();
    });

    function startWorker(): (typeof workers)[number] {
      const child = spawn(process.execPath, [BIN, "worker", "--concurrency", "2"], {
        cwd: ROOT,
        env: cleanEnv({ REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "scale", CONCLAVE_WORKER_STALLED_MS: "2000", OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", LANGSMITH_TRACING: "false", CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-worker-")) }),
        stdio: ["ignore", "ignore", "pipe"],
      });
      const worker = { process: child, stderr: "", exit: new Promise((done) => child.on("exit", done)) };
      child.stderr!.on("data", (data: Buffer) => (worker.stderr += data.toString()));
      workers.push(worker);
      return worker;
    }

    it("runs 10 runs on 3 workers; a SIGKILLed worker's run is resumed from its checkpoint by another and every run ends done once", async () => {
      const scale = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "scale" });
      try {
        for (let index = 0; index < 3; index++) startWorker();
        await until(async () => workers.every((worker) => worker.stderr.includes("taking runs")), "the workers to start");
        const runs: ServiceRun[] = [];
        for (let n = 1; n <= 10; n++) runs.push(await scale.submit({ graph: "research", input: `What is ${n} * 7?` }));
        const hung = await until(async () => victim, "a run to reach its second model call");
        const victimRun = runs.find((run) => run.input === hung.question)!;
        const row = (await db.query("SELECT worker FROM conclave_service_runs WHERE id = $1", [victimRun.id])).rows[0] as { worker: string };
        const killed = workers.find((worker) => `${hostname()}:${worker.process.pid}` === row.worker)!;
        expect(killed, `worker ${row.worker}`).toBeDefined();
        const before = Number((await db.query("SELECT count(*) FROM checkpoints WHERE thread_id = $1", [victimRun.threadId])).rows[0].count);
        expect(before).toBeGreaterThan(0);
        killed.process.kill("SIGKILL");
        await killed.exit;
        const ended = await until(async () => {
          const all = await Promise.all(runs.map((run) => scale.get(run.id)));
          return all.every((run) => run && ["done", "failed", "cancelled"].includes(run.status)) ? (all as ServiceRun[]) : undefined;
        }, "every run to end", 45_000);
        for (const [index, run] of ended.entries()) {
          expect(run.status, `${run.input}: ${run.error ?? ""}`).toBe("done");
          expect(run.result?.answer).toContain(String((index + 1) * 7));
          // Done exactly once on the event stream every subscriber reads (a worker killed between recording
          // the end and announcing it leaves the announcement to the worker that takes the job over).
          const bus = new RedisEventBus({ redis: REDIS_URL!, namespace: `${prefix}:scale:conclave` });
          const statuses: string[] = [];
          for await (const { event } of bus.read(run.id, undefined, AbortSignal.timeout(5_000))) if (event.type === "run-status") statuses.push((event as { status: string }).status);
          await bus.close();
          expect(statuses.filter((status) => status === "done"), run.id).toHaveLength(1);
          expect(statuses.at(-1)).toBe("done");
        }
        // The killed worker's run did not start over: one first model call (its checkpoint held the calculator step).
        expect(server.requests.filter((request) => questionOf(request) === victimRun.input && request.body.messages.at(-1).role !== "tool")).toHaveLength(1);
        const after = (await db.query("SELECT worker, attempts FROM conclave_service_runs WHERE id = $1", [victimRun.id])).rows[0] as { worker: string; attempts: number };
        expect(after.worker).not.toBe(row.worker);
        expect(after.attempts).toBe(2);
        const resumer = workers.find((worker) => `${hostname()}:${worker.process.pid}` === after.worker)!;
        expect(resumer.stderr).toContain(`resuming run ${victimRun.id}`);
        expect(Number((await db.query("SELECT count(*) FROM checkpoints WHERE thread_id = $1", [victimRun.threadId])).rows[0].count)).toBeGreaterThan(before);
      } finally {
        await scale.obliterate().catch(() => undefined);
        await scale.close();
      }
    }, 60_000);
  });
});
