import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../src/config/schema.ts";
import { run } from "../src/runtime/run.ts";
import type { RunnableGraph } from "../src/runtime/run.ts";
import { BullRunQueue } from "../src/service/bullmq-queue.ts";
import { RunStatusEventSchema } from "../src/service/events/types.ts";
import type { RunStatusEvent } from "../src/service/events/types.ts";
import type { ServiceRun } from "../src/service/types.ts";
import { scaleTeam } from "./fixtures/scale-team.ts";
import { ROOT, cleanEnv } from "./helpers/cli.ts";
import { spawnCli, until } from "./helpers/processes.ts";
import type { CliProcess } from "./helpers/processes.ts";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const RUNS = 50;
const QUESTIONS = ["Who discovered penicillin?", "When did Apollo 11 land on the Moon?", "What is LangGraph?", "What is a checkpoint?", "Who wrote the theory of general relativity?"];

describe.skipIf(!REDIS_URL || !DATABASE_URL)(`scale-out: 3 worker processes, ${RUNS} team-graph runs, one worker SIGKILLed${REDIS_URL && DATABASE_URL ? "" : " — SKIPPED: REDIS_URL or DATABASE_URL is unset"}`, () => {
  const prefix = `conclave-scale-${randomUUID().slice(0, 8)}`;
  const workspace = mkdtempSync(join(tmpdir(), "conclave-scale-"));
  const effects = mkdtempSync(join(tmpdir(), "conclave-effects-"));
  const workers: CliProcess[] = [];
  let queue: BullRunQueue;
  let db: pg.Pool;
  let redis: Redis;

  beforeAll(() => {
    // A user's workspace: its own config registering its graph by path, as `conclave worker` finds it.
    writeFileSync(join(workspace, "conclave.config.json"), JSON.stringify({ graphs: { "scale-team": `${join(ROOT, "test/fixtures/scale-team.ts")}:scaleTeam` }, defaultGraph: "scale-team" }));
    queue = new BullRunQueue({ redisUrl: REDIS_URL!, databaseUrl: DATABASE_URL!, prefix, queueName: "scale" });
    db = new pg.Pool({ connectionString: DATABASE_URL!, max: 2 });
    redis = new Redis(REDIS_URL!);
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop(5_000)));
    await queue?.obliterate().catch(() => undefined);
    await queue?.close();
    const keys = (await redis?.keys(`${prefix}:*`)) ?? [];
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
    await db?.end();
  });

  it("finishes every run exactly once, equal to an uninterrupted run, with each side effect applied once", async () => {
    // What each question's run gives uninterrupted, in this process (the offline model is deterministic).
    const graph = scaleTeam.build({ config: ConfigSchema.parse({}), cwd: workspace, options: {} }) as RunnableGraph;
    const expected = new Map<string, unknown>();
    for (const question of QUESTIONS) expected.set(question, scaleTeam.output((await run(graph, scaleTeam.input(question) as never, { threadId: `reference-${randomUUID()}` })).state as never));

    for (let index = 0; index < 3; index++) {
      workers.push(
        spawnCli(["worker", "--concurrency", "2"], {
          cwd: workspace,
          env: cleanEnv({ REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "scale", CONCLAVE_WORKER_STALLED_MS: "2000", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", EFFECT_DIR: effects, SCALE_TOOL_DELAY_MS: "250", CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-worker-")) }),
        }),
      );
    }
    await Promise.all(workers.map((worker) => worker.waitFor(/taking runs from/, 60_000)));
    const runs: ServiceRun[] = [];
    for (let index = 0; index < RUNS; index++) runs.push(await queue.submit({ graph: "scale-team", input: QUESTIONS[index % QUESTIONS.length]! }));
    const ids = runs.map((run) => run.id);

    // Kill the busiest worker once the batch is well under way, while it has runs in flight.
    const busiest = await until(async () => {
      const done = (await db.query("SELECT count(*)::int AS n FROM conclave_service_runs WHERE id = ANY($1) AND status = 'done'", [ids])).rows[0].n as number;
      if (done < 8) return undefined;
      const rows = (await db.query("SELECT worker, count(*)::int AS n FROM conclave_service_runs WHERE id = ANY($1) AND status = 'running' GROUP BY worker ORDER BY n DESC", [ids])).rows as Array<{ worker: string; n: number }>;
      return rows.find((row) => row.n > 0);
    }, "a worker with runs in flight", 60_000, 20);
    const victim = workers.find((worker) => `${hostname()}:${worker.process.pid}` === busiest.worker)!;
    expect(victim, busiest.worker).toBeDefined();
    victim.process.kill("SIGKILL");
    await victim.exit;
    // What the dead worker left running (read after the kill: a run it finished just before is not among them).
    const inFlight = ((await db.query("SELECT id FROM conclave_service_runs WHERE id = ANY($1) AND status = 'running' AND worker = $2", [ids, busiest.worker])).rows as Array<{ id: string }>).map((row) => row.id);
    expect(inFlight.length, "runs in flight on the killed worker").toBeGreaterThan(0);

    await until(async () => (await db.query("SELECT count(*)::int AS n FROM conclave_service_runs WHERE id = ANY($1) AND status IN ('done', 'failed', 'cancelled')", [ids])).rows[0].n === RUNS, `all ${RUNS} runs to end`, 120_000, 200);

    // Every run is done, with the answer an uninterrupted run gives: no step lost, none run twice into the state.
    for (const submitted of runs) {
      const record = (await queue.get(submitted.id))!;
      expect(record.status, `${record.id}: ${record.error}`).toBe("done");
      expect(record.result, record.id).toEqual(JSON.parse(JSON.stringify(expected.get(submitted.input))));
    }

    // Exactly one "done" per run on the event stream every subscriber reads; the killed worker's runs resumed elsewhere.
    const entries = (await redis.xrange(`${prefix}:scale:conclave:events`, "-", "+")) as Array<[string, string[]]>;
    const statuses: RunStatusEvent[] = entries.map(([, fields]) => JSON.parse(fields[3]!)).filter((event) => event.type === "run-status").map((event) => RunStatusEventSchema.parse(event));
    for (const id of ids) expect(statuses.filter((event) => event.serviceRunId === id && event.status === "done"), id).toHaveLength(1);
    const resumedElsewhere = statuses.filter((event) => event.status === "running" && event.resumed && inFlight.includes(event.serviceRunId) && event.worker !== busiest.worker);
    expect(new Set(resumedElsewhere.map((event) => event.serviceRunId))).toEqual(new Set(inFlight));

    // Side effects: one per search call; each applied once, though a call cut off by the kill may have run again under its key.
    const ledger = (await db.query("SELECT key, thread_id, status, attempts FROM conclave_effects WHERE thread_id = ANY($1)", [ids])).rows as Array<{ key: string; thread_id: string; status: string; attempts: number }>;
    expect(new Set(ledger.map((row) => row.thread_id)).size).toBe(RUNS);
    expect(ledger.every((row) => row.status === "done")).toBe(true);
    const applied = readFileSync(join(effects, "effects.log"), "utf8").trim().split("\n").map((line) => line.split(" ")[0]!);
    expect(applied.length).toBe(new Set(applied).size);
    expect(new Set(applied)).toEqual(new Set(ledger.map((row) => row.key)));
    const attempts = readFileSync(join(effects, "attempts.log"), "utf8").trim().split("\n").map((line) => line.split(" "));
    // A call that ran again (cut off by the kill before the ledger recorded it done) was told so
    // (isRetryAfterCrash); a completed call never ran again. A lone "retry" is a call whose first
    // attempt was begun in the ledger but killed before it reached the archive.
    const byKey = new Map<string, string[]>();
    for (const [key, kind] of attempts) byKey.set(key!, [...(byKey.get(key!) ?? []), kind!]);
    for (const [key, kinds] of byKey) {
      expect(kinds.filter((kind) => kind === "first").length, key).toBeLessThanOrEqual(1);
      expect(kinds.slice(1), key).toEqual(kinds.slice(1).map(() => "retry"));
    }
    const rerun = [...byKey.values()].filter((kinds) => kinds.includes("retry")).length;
    console.log(`scale-out: ${RUNS} runs done once each; ${inFlight.length} in flight on the killed worker, resumed on others; ${ledger.length} side effects applied once; ${rerun} calls cut off by the kill ran again under their key (isRetryAfterCrash)`);
  }, 240_000);
});
