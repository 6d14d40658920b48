import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, DeadLetterQueue, OfflineChatModel, run } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./etl.ts";

describe("the etl example on its sample, offline", () => {
  it("loads the good feedback rows and reports the four bad ones with their stage, keeping them as dead letters", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "conclave-etl-example-"));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}) });

    const answer = example.output(state);
    expect(answer.details).toMatchObject({
      counts: { extract: { in: 12, out: 11, failed: 1 }, transform: { in: 11, out: 10, failed: 1 }, validate: { in: 10, out: 9, failed: 1 }, load: { in: 9, out: 8, failed: 1 } },
      loaded: ["F-101", "F-102", "F-103", "F-107", "F-108", "F-109", "F-110", "F-111"],
    });
    expect((answer.details!.failures as Array<{ row: number; stage: string; reason: string }>).map(({ row, stage, reason }) => ({ row, stage, reason }))).toEqual([
      { row: 4, stage: "validate", reason: "email: Invalid email address" },
      { row: 5, stage: "transform", reason: 'rating "eleven" is not a whole number' },
      { row: 6, stage: "extract", reason: "4 columns, expected 5 (id, customer, email, rating, comment)" },
      { row: 9, stage: "load", reason: "duplicate key F-102: already loaded from row 2" },
    ]);
    // Each transformed record asked the model once; the summary is the comment's own first point, cleaned of citations.
    expect(usage.modelCalls).toBe(10);
    expect(answer.answer).toContain("- F-101 (5/5) The new checkout is fast.");
    expect(answer.answer).not.toMatch(/\[F-\d+\]/);

    const letters = new DeadLetterQueue({ path: join(cwd, ".conclave", "dlq.sqlite") });
    expect(letters.list("dead").map((letter) => [letter.kind, letter.graph, letter.error.code]).sort()).toEqual([
      ["batch-item", "feedback-etl", "ETL_EXTRACT_REJECTED"],
      ["batch-item", "feedback-etl", "ETL_LOAD_REJECTED"],
      ["batch-item", "feedback-etl", "ETL_TRANSFORM_FAILED"],
      ["batch-item", "feedback-etl", "ETL_VALIDATION_FAILED"],
    ]);
    letters.close();
  });
});
