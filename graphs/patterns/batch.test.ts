import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, DeadLetterQueue, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./batch.ts";

describe("the batch example on its sample, offline", () => {
  it("triages every ticket it can, reports progress per chunk, and keeps the two bad tickets as batch-item dead letters", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "conclave-batch-example-"));
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    const report = state.report!;
    expect(report).toMatchObject({ name: "ticket-triage", status: "done", total: 14, succeeded: 12, failed: 2, skipped: 0, chunks: 5 });
    expect(report.maxInFlight).toBeLessThanOrEqual(2);
    expect(report.aggregate).toEqual({
      byPriority: { high: ["T-201", "T-206", "T-207", "T-208", "T-213"], medium: ["T-203", "T-211", "T-214"], low: ["T-202", "T-204", "T-210", "T-212"] },
      byTeam: { finance: 3, mobile: 4, logistics: 3, "trust-and-safety": 2 },
    });
    expect(usage.modelCalls).toBe(12);
    expect(seen.filter((event) => event.type === "round-end")).toHaveLength(5);

    const answer = example.output(state);
    expect(answer.answer).toContain("Triaged 12 of 14 tickets in 5 chunks");
    expect(answer.answer).toContain('- T-209: no team handles product "loyalty"');

    const letters = new DeadLetterQueue({ path: join(cwd, ".conclave", "dlq.sqlite") });
    expect(letters.list("dead").map((letter) => [letter.kind, letter.graph, (letter.input as { id: string }).id, letter.error.message]).sort()).toEqual([
      ["batch-item", "ticket-triage", "T-205", "ticket T-205 has no body to triage"],
      ["batch-item", "ticket-triage", "T-209", 'no team handles product "loyalty" (known: billing, app, shipping, security)'],
    ]);
    letters.close();
  });
});
