/**
 * The service's acceptance run and throughput benchmark: `conclave serve --queue bullmq` with 1 or 2
 * `conclave worker` processes (concurrency 2 each) on the local PostgreSQL and Redis, BENCH_RUNS
 * (default 100) runs of the team graph submitted over HTTP, offline model. The team's research agent
 * searches through a side-effecting tool (test/fixtures/scale-team.ts) that sleeps
 * SCALE_TOOL_DELAY_MS (default 250) to stand for provider latency. Three phases: 1 worker, 2
 * workers, and 2 workers with one SIGKILLed once 30% of the runs are done. Prints runs completed,
 * runs resumed on another worker, duplicate effects and throughput. A benchmark: it reports, never
 * asserts (test/scale-out.test.ts asserts the same properties on 50 runs).
 *
 *   REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:service
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { ROOT, cleanEnv } from "../helpers/cli.ts";
import { spawnCli, until } from "../helpers/processes.ts";
import type { CliProcess } from "../helpers/processes.ts";

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
if (!REDIS_URL || !DATABASE_URL) {
  console.error("bench:service needs REDIS_URL and DATABASE_URL (e.g. REDIS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test).");
  process.exit(2);
}
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const DELAY = process.env.SCALE_TOOL_DELAY_MS ?? "250";
const QUESTIONS = ["Who discovered penicillin?", "When did Apollo 11 land on the Moon?", "What is LangGraph?", "What is a checkpoint?", "Who wrote the theory of general relativity?"];
const workspace = mkdtempSync(join(tmpdir(), "conclave-bench-service-"));
writeFileSync(join(workspace, "conclave.config.json"), JSON.stringify({ graphs: { "scale-team": `${join(ROOT, "test/fixtures/scale-team.ts")}:scaleTeam` }, defaultGraph: "scale-team" }));
const db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const redis = new Redis(REDIS_URL);

interface PhaseResult {
  phase: string;
  completed: number;
  failed: number;
  seconds: number;
  throughput: number;
  killedInFlight: number;
  resumedElsewhere: number;
  doneTwice: number;
  effects: number;
  duplicateEffects: number;
  rerunCalls: number;
}

async function phase(name: string, workerCount: number, kill: boolean): Promise<PhaseResult> {
  const prefix = `conclave-bench-${randomUUID().slice(0, 8)}`;
  const effects = mkdtempSync(join(tmpdir(), "conclave-bench-effects-"));
  const env = (extra: Record<string, string>) => cleanEnv({ REDIS_URL: REDIS_URL!, DATABASE_URL: DATABASE_URL!, CONCLAVE_QUEUE_PREFIX: prefix, CONCLAVE_QUEUE: "bench", CONCLAVE_WORKER_STALLED_MS: "2000", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", EFFECT_DIR: effects, SCALE_TOOL_DELAY_MS: DELAY, CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-bench-state-")), CONCLAVE_KEY_STORE: "sqlite", ...extra });
  const processes: CliProcess[] = [];
  try {
    const server = spawnCli(["serve", "--queue", "bullmq", "--port", "0", "--quiet"], { cwd: workspace, env: env({}) });
    processes.push(server);
    const url = (await server.waitFor(/listening on (http:\/\/[\d.:]+)/, 60_000))[1]!;
    const workers = Array.from({ length: workerCount }, () => spawnCli(["worker", "--concurrency", "2", "--quiet"], { cwd: workspace, env: env({}) }));
    processes.push(...workers);
    await Promise.all(workers.map((worker) => worker.waitFor(/taking runs from/, 60_000)));

    const started = performance.now();
    const ids: string[] = [];
    for (let index = 0; index < RUNS; index++) {
      const response = await fetch(`${url}/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: QUESTIONS[index % QUESTIONS.length], graph: "scale-team" }) });
      ids.push(((await response.json()) as { id: string }).id);
    }
    const ended = async () => {
      const runs = ((await (await fetch(`${url}/runs?limit=1000`)).json()) as { runs: Array<{ id: string; status: string }> }).runs.filter((run) => ids.includes(run.id));
      return { done: runs.filter((run) => run.status === "done").length, failed: runs.filter((run) => run.status === "failed" || run.status === "cancelled").length, running: runs.filter((run) => run.status === "running").length };
    };
    let inFlight: string[] = [];
    let killedWorker = "";
    if (kill) {
      const busiest = await until(async () => {
        if ((await ended()).done < RUNS * 0.3) return undefined;
        const rows = (await db.query("SELECT worker, count(*)::int AS n FROM conclave_service_runs WHERE id = ANY($1) AND status = 'running' GROUP BY worker ORDER BY n DESC", [ids])).rows as Array<{ worker: string; n: number }>;
        return rows.find((row) => row.n > 0);
      }, "a worker with runs in flight", 300_000, 20);
      killedWorker = busiest.worker;
      const victim = workers.find((worker) => `${hostname()}:${worker.process.pid}` === killedWorker)!;
      victim.process.kill("SIGKILL");
      await victim.exit;
      inFlight = ((await db.query("SELECT id FROM conclave_service_runs WHERE id = ANY($1) AND status = 'running' AND worker = $2", [ids, killedWorker])).rows as Array<{ id: string }>).map((row) => row.id);
      console.error(`  ${name}: SIGKILLed worker pid ${victim.process.pid} with ${inFlight.length} runs in flight`);
    }
    const final = await until(async () => {
      const counts = await ended();
      return counts.done + counts.failed === RUNS ? counts : undefined;
    }, `all ${RUNS} runs to end`, 600_000, 100);
    const seconds = (performance.now() - started) / 1000;

    const entries = (await redis.xrange(`${prefix}:bench:conclave:events`, "-", "+")) as Array<[string, string[]]>;
    const statuses = entries.map(([, fields]) => JSON.parse(fields[3]!) as { type: string; serviceRunId: string; status: string; resumed?: boolean; worker?: string }).filter((event) => event.type === "run-status");
    const doneTwice = ids.filter((id) => statuses.filter((event) => event.serviceRunId === id && event.status === "done").length !== 1).length;
    const resumedElsewhere = new Set(statuses.filter((event) => event.status === "running" && event.resumed && event.worker !== killedWorker).map((event) => event.serviceRunId)).size;
    const applied = existsSync(join(effects, "effects.log")) ? readFileSync(join(effects, "effects.log"), "utf8").trim().split("\n").map((line) => line.split(" ")[0]!) : [];
    const attempts = existsSync(join(effects, "attempts.log")) ? readFileSync(join(effects, "attempts.log"), "utf8").trim().split("\n").map((line) => line.split(" ")) : [];
    const ledger = (await db.query("SELECT key FROM conclave_effects WHERE thread_id = ANY($1)", [ids])).rows.length;
    return {
      phase: name,
      completed: final.done,
      failed: final.failed,
      seconds,
      throughput: final.done / seconds,
      killedInFlight: inFlight.length,
      resumedElsewhere,
      doneTwice,
      effects: ledger,
      // Effects applied more than once: an effect line repeated, or more lines than ledger entries.
      duplicateEffects: applied.length - new Set(applied).size,
      // Calls begun before the kill and run again under their key (told so by isRetryAfterCrash).
      rerunCalls: new Set(attempts.filter(([, kind]) => kind === "retry").map(([key]) => key)).size,
    };
  } finally {
    await Promise.all(processes.map((child) => child.stop(15_000)));
    const keys = await redis.keys(`${prefix}:*`);
    for (let index = 0; index < keys.length; index += 500) await redis.del(...keys.slice(index, index + 500));
  }
}

console.error(`bench:service — ${RUNS} runs of the team graph (offline model, ${DELAY} ms per archive search), node ${process.version}, ${(await import("node:os")).cpus().length} cores`);
const results: PhaseResult[] = [];
for (const [name, workers, kill] of [["1 worker", 1, false], ["2 workers", 2, false], ["2 workers, 1 killed", 2, true]] as const) {
  console.error(`  running: ${name}…`);
  results.push(await phase(name, workers, kill));
}
console.log("| phase | completed | failed | seconds | runs/s | in flight on killed worker | resumed on another worker | runs without exactly one done event | side effects | duplicate effects | cut-off calls re-run |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) console.log(`| ${r.phase} | ${r.completed} | ${r.failed} | ${r.seconds.toFixed(1)} | ${r.throughput.toFixed(2)} | ${r.killedInFlight} | ${r.resumedElsewhere} | ${r.doneTwice} | ${r.effects} | ${r.duplicateEffects} | ${r.rerunCalls} |`);
console.log(`speed-up, 2 workers over 1: ${(results[1]!.throughput / results[0]!.throughput).toFixed(2)}×`);
await db.end();
redis.disconnect();
