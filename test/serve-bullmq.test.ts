import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunStatusEventSchema } from "../src/service/events/types.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { ROOT, cleanEnv, runCli } from "./helpers/cli.ts";
import { mailerModel } from "./helpers/mailer-model.ts";
import { spawnCli, until } from "./helpers/processes.ts";
import type { CliProcess } from "./helpers/processes.ts";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;

interface Frame {
  id: string;
  event: string;
  data: any;
}

async function call(url: string, method: string, path: string, key: string | undefined, body?: unknown) {
  const response = await fetch(url + path, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

/** Reads a run's SSE stream to its end (the server closes it when the run stops). */
async function readEvents(url: string, runId: string, key: string, lastEventId?: string): Promise<Frame[]> {
  const response = await fetch(`${url}/runs/${runId}/events`, { headers: { authorization: `Bearer ${key}`, ...(lastEventId ? { "last-event-id": lastEventId } : {}) }, signal: AbortSignal.timeout(30_000) });
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  return (await response.text())
    .split("\n\n")
    .filter((block) => block.includes("data:"))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((line) => line.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: field("id"), event: field("event"), data: JSON.parse(field("data")) };
    });
}

describe.skipIf(!REDIS_URL || !DATABASE_URL)(`conclave serve --queue bullmq with conclave worker${REDIS_URL && DATABASE_URL ? "" : " — SKIPPED: REDIS_URL or DATABASE_URL is unset"}`, () => {
  const prefix = `conclave-api-${randomUUID().slice(0, 8)}`;
  // Key names unique to this run: the key table is shared by everything on this database; its rows are deleted afterwards.
  const keyName = (label: string) => `${prefix}-${label}`;
  let fake: FakeOpenAIServer;
  let redis: Redis;
  const processes: CliProcess[] = [];
  let servers: string[] = [];
  let worker: CliProcess;
  let admin = "";
  let runner = "";

  const env = (extra: Record<string, string>) =>
    cleanEnv({ REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "api", OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json"), CONCLAVE_WORKER_STALLED_MS: "2000", ...extra });

  beforeAll(async () => {
    fake = await startFakeOpenAIServer();
    fake.setFallback({ kind: "respond", handler: mailerModel });
    redis = new Redis(REDIS_URL!);
    // The keys go to PostgreSQL, from a state folder neither server uses: the servers can only know them from there.
    const keyEnv = { DATABASE_URL: DATABASE_URL!, CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-keys-")) };
    admin = (await runCli(["keys", "create", "--name", keyName("ops"), "--scopes", "admin", "--store", "postgres"], { env: keyEnv })).stdout.trim().split("\n").at(-1)!;
    runner = (await runCli(["keys", "create", "--name", keyName("runner"), "--scopes", "run", "--rpm", "3", "--store", "postgres"], { env: keyEnv })).stdout.trim().split("\n").at(-1)!;
    expect(admin).toMatch(/^ck_/);
    // Two servers (as if on two machines behind one load balancer), each on its own state folder, and one worker on its own.
    for (let index = 0; index < 2; index++) {
      const server = spawnCli(["serve", "--queue", "bullmq", "--port", "0", "--quiet"], { env: env({ CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-serve-")) }) });
      processes.push(server);
      servers.push((await server.waitFor(/listening on (http:\/\/[\d.:]+)/))[1]!);
    }
    worker = spawnCli(["worker", "--concurrency", "2"], { env: env({ CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-worker-")) }) });
    processes.push(worker);
    await worker.waitFor(/taking runs from/);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((child) => child.stop(10_000)));
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query("DELETE FROM conclave_api_keys WHERE name = ANY($1)", [[keyName("ops"), keyName("runner")]]).catch(() => undefined);
    await db.end();
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await fake?.close();
  });

  it("starts a run on one server, streams its events from the other, approves its mails over the API and fetches the result a worker produced", async () => {
    const [a, b] = servers as [string, string];
    expect((await call(a, "POST", "/runs", undefined, { input: "Email ana: lunch?", graph: "mailroom" })).status).toBe(401);
    const posted = await call(a, "POST", "/runs", admin, { input: "Email ana: lunch?", graph: "mailroom" });
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    const id = posted.body.id as string;

    // Server B never saw the submit: it streams what the worker published on Redis.
    const first = await readEvents(b, id, admin);
    expect(first.every((frame) => /^\d+-\d+$/.test(frame.id))).toBe(true);
    const statuses = (frames: Frame[]) => frames.filter((frame) => frame.event === "run-status").map((frame) => frame.data.status);
    expect(statuses(first)).toEqual(["queued", "running", "interrupted"]);
    expect(first.find((frame) => frame.data.status === "running")!.data.worker).toBe(`${(await import("node:os")).hostname()}:${worker.process.pid}`);
    expect(first.some((frame) => frame.event === "tool-call-start" || frame.event === "llm-call-end")).toBe(true);

    const approvals = await call(a, "GET", "/approvals", admin);
    const mine = approvals.body.approvals.filter((approval: { runId: string }) => approval.runId === id);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0].request.summary).toContain("ana");
    // The run key may start runs but not decide them.
    expect((await call(a, "POST", `/runs/${id}/approve`, runner, {})).status).toBe(403);
    expect((await call(b, "POST", `/runs/${id}/approve`, admin, {})).status).toBe(202);

    // Reconnecting after the last event seen follows the resumed run to its end.
    const resumed = await readEvents(a, id, admin, first.at(-1)!.id);
    expect(resumed[0]).toMatchObject({ event: "run-status", data: { status: "queued" } });
    expect(statuses(resumed).at(-1)).toBe("done");
    expect(resumed.find((frame) => frame.event === "run-start")?.data.resumed).toBe(true);

    const done = await call(a, "GET", `/runs/${id}`, admin);
    expect(done.body.status, JSON.stringify(done.body)).toBe("done");
    expect(done.body.result.answer).toContain("done:");

    // Any other service can follow the lifecycle on the all-runs stream, typed by the exported schema.
    const entries = (await redis.xrange(`${prefix}:api:conclave:events`, "-", "+")) as Array<[string, string[]]>;
    const lifecycle = entries
      .filter(([, fields]) => fields[1] === id)
      .map(([, fields]) => JSON.parse(fields[3]!))
      .filter((event) => event.type === "run-status")
      .map((event) => RunStatusEventSchema.parse(event).status);
    expect(lifecycle).toEqual(["queued", "running", "interrupted", "queued", "running", "done"]);
  }, 60_000);

  it("reports readiness of Redis and PostgreSQL, and counts the workers' runs and the queue in /metrics", async () => {
    const ready = await call(servers[0]!, "GET", "/ready", admin);
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body).toMatchObject({ redis: { ok: true }, database: { ok: true }, checkpointer: { ok: true, backend: "postgres" } });
    const metrics = String((await call(servers[1]!, "GET", "/metrics", admin)).body);
    expect(metrics).toMatch(/conclave_service_run_status_total\{graph="mailroom",status="done",resumed="false"\} [1-9]/);
    // Model calls happened in the worker process; this server counted them from the event stream.
    expect(metrics).toMatch(/conclave_model_requests_total\{model="fake-model",[^}]*\} [1-9]/);
    expect(metrics).toMatch(/conclave_queue_jobs\{state="waiting"\} 0/);
  });

  it("shares a key's rate limit between the two servers (Redis), answering 429 with Retry-After", async () => {
    const [a, b] = servers as [string, string];
    expect((await call(a, "GET", "/runs", runner)).status).toBe(200);
    expect((await call(b, "GET", "/runs", runner)).status).toBe(200);
    expect((await call(a, "GET", "/runs", runner)).status).toBe(200);
    const refused = await call(b, "GET", "/runs", runner);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.body.error.message).toContain("3 requests per minute");
  });

  it("a failed run is a dead letter (GET /dead-letters, conclave dlq --queue bullmq); retried once the provider recovers, it finishes", async () => {
    const [a, b] = servers as [string, string];
    const statusOf = async (id: string, wanted: string[]) => until(async () => {
      const run = await call(a, "GET", `/runs/${id}`, admin);
      return wanted.includes(run.body.status) ? run.body : undefined;
    }, `run ${id} to be ${wanted.join(" or ")}`);
    fake.setFallback({ kind: "error", status: 500, body: { error: { message: "provider down" } } });
    const posted = await call(a, "POST", "/runs", admin, { input: "Email bob: status?", graph: "mailroom" });
    const failed = await statusOf(posted.body.id, ["failed", "done", "interrupted"]);
    fake.setFallback({ kind: "respond", handler: mailerModel });
    expect(failed.status).toBe("failed");

    expect((await call(b, "GET", "/dead-letters", runner)).status).toBe(403);
    const letters = await call(b, "GET", "/dead-letters", admin);
    const letter = letters.body.deadLetters.find((candidate: { runId: string }) => candidate.runId === posted.body.id);
    expect(letter, JSON.stringify(letters.body)).toMatchObject({ graph: "mailroom", status: "failed" });
    expect(letter.reason).toMatch(/500|provider down/);
    const cliEnv = { REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "api" };
    const listed = await runCli(["dlq", "list", "--queue", "bullmq", "--json"], { env: cliEnv });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((entry: { runId: string }) => entry.runId)).toContain(posted.body.id);

    const retried = await call(a, "POST", `/dead-letters/${posted.body.id}/retry`, admin);
    expect(retried.status, JSON.stringify(retried.body)).toBe(202);
    expect(retried.body.status).toBe("queued");
    const paused = await statusOf(posted.body.id, ["interrupted", "failed", "done"]);
    expect(paused.status, paused.error).toBe("interrupted");
    expect((await call(b, "POST", `/runs/${posted.body.id}/approve`, admin, {})).status).toBe(202);
    const done = await statusOf(posted.body.id, ["done", "failed"]);
    expect(done.result.answer).toContain("done:");
    expect((await call(b, "GET", "/dead-letters", admin)).body.deadLetters.map((entry: { runId: string }) => entry.runId)).not.toContain(posted.body.id);
    expect((await call(a, "POST", `/dead-letters/${posted.body.id}/retry`, admin)).status).toBe(404);
  }, 60_000);

  it("refuses to start without its services, saying what to set", async () => {
    const result = await runCli(["serve", "--queue", "bullmq", "--port", "0"], { env: { REDIS_URL: "" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("REDIS_URL");
    expect(result.stderr).toContain("DATABASE_URL");
    const wrong = await runCli(["serve", "--queue", "kafka"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--queue is "local"');
  });
});
