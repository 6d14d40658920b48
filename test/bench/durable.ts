/**
 * What durability costs: a 10-node chain run through `run()` with no checkpointer, with LangGraph's
 * MemorySaver, and with the SQLite and PostgreSQL stores the CLI uses (`durability: "sync"`: every
 * step is on disk before the next starts, so a killed process loses only the step in flight).
 * Alternating rounds; prints medians per run and per step. A benchmark: it reports, never asserts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { createCheckpointer, run } from "../../src/index.ts";
import type { Checkpointer } from "../../src/index.ts";

process.env.LANGSMITH_TRACING = "false";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const STEPS = 10;

function chain() {
  const State = new StateSchema({ count: z.number().default(0), notes: z.array(z.string()).default([]) });
  let builder = new StateGraph(State) as unknown as StateGraph<typeof State>;
  for (let index = 0; index < STEPS; index++) builder = builder.addNode(`n${index}`, (state: typeof State.State) => ({ count: state.count + 1, notes: [...state.notes, `step ${index}: ${"x".repeat(200)}`] })) as never;
  builder = builder.addEdge(START, "n0" as never) as never;
  for (let index = 1; index < STEPS; index++) builder = builder.addEdge(`n${index - 1}` as never, `n${index}` as never) as never;
  return builder.addEdge(`n${STEPS - 1}` as never, END).compile();
}

const dir = mkdtempSync(join(tmpdir(), "conclave-bench-durable-"));
const stores: Array<[string, Checkpointer | undefined]> = [
  ["no checkpointer", undefined],
  ["memory", await createCheckpointer({ backend: "memory" }, { cwd: dir })],
  ["sqlite (sync)", await createCheckpointer({ backend: "sqlite", path: join(dir, "bench.sqlite") }, { cwd: dir })],
];
if (process.env.DATABASE_URL) stores.push(["postgres (sync)", await createCheckpointer({ backend: "postgres" }, { cwd: dir, env: process.env })]);

const times = new Map<string, number[]>(stores.map(([name]) => [name, []]));
let round = 0;
for (let index = 0; index < ROUNDS + 20; index++) {
  for (const [name, store] of stores) {
    const graph = chain();
    const started = performance.now();
    await run(graph, { count: 0 }, { stepLimit: 25, threadId: `bench-${round++}`, ...(store ? { checkpointer: store.saver } : {}) });
    if (index >= 20) times.get(name)!.push(performance.now() - started);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const base = median(times.get("no checkpointer")!);
console.log(`node ${process.version}, ${ROUNDS} alternating rounds of a ${STEPS}-step chain (200-character note per step)`);
for (const [name] of stores) {
  const value = median(times.get(name)!);
  console.log(`  ${name.padEnd(16)} ${value.toFixed(2)} ms/run  (${(value / STEPS).toFixed(3)} ms/step, +${((value - base) / STEPS).toFixed(3)} ms/step over none)`);
}
for (const [, store] of stores) await store?.close();
rmSync(dir, { recursive: true, force: true });
