// Compile-time checks of the dataflow patterns' inference (checked by `npm run typecheck`, not run).
import { expectTypeOf } from "vitest";
import { z } from "zod";
import { run } from "../index.ts";
import { runBatch } from "./batch.ts";
import { createDeployment } from "./deployment.ts";
import { createEtlGraph } from "./etl.ts";
import { createStreamProcessor } from "./stream.ts";

async function inference() {
  // Items, results and the aggregate flow from process and aggregate into the report.
  const report = await runBatch({ items: [{ id: "a" }], process: (item) => item.id.length, aggregate: (lengths, failures) => ({ total: lengths.reduce((sum, length) => sum + length, 0), failed: failures.map((failure) => failure.item.id) }) });
  expectTypeOf(report.aggregate).toEqualTypeOf<{ total: number; failed: string[] }>();
  expectTypeOf(report.failures[0]!.item).toEqualTypeOf<{ id: string }>();
  const plain = await runBatch({ items: ["x"], process: (item) => item.toUpperCase() });
  expectTypeOf(plain.aggregate).toEqualTypeOf<string[]>();

  // The ETL stages are typed record to record; the validate schema must fit the transformed record.
  const etl = createEtlGraph({ extract: () => [{ raw: "1" }], transform: (record) => ({ value: Number(record.raw) }), validate: z.object({ value: z.number() }), load: (records) => void records.map((entry) => expectTypeOf(entry.record).toEqualTypeOf<{ value: number }>()) });
  const { state } = await run(etl, { source: "x" });
  expectTypeOf(state.loaded).toEqualTypeOf<number[]>();

  // The sink receives what process returns.
  createStreamProcessor({ source: [1, 2], bufferSize: 2, batch: { size: 1, maxWaitMs: 1 }, process: (batch) => batch.map(String), sink: (results) => {
    expectTypeOf(results).toEqualTypeOf<string[]>();
  } });

  // Routes carry the versions' target type.
  const deployment = createDeployment({ name: "d", stable: { name: "v1", target: { answer: (q: string) => q } }, canary: { name: "v2", target: { answer: (q: string) => q.trim() } }, rollout: { percent: 5 } });
  expectTypeOf(deployment.route("u").target.answer).toEqualTypeOf<(q: string) => string>();
  expectTypeOf(await deployment.serve("u", (target) => target.answer("q"))).toEqualTypeOf<string>();
}
void inference;
