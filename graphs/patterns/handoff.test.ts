import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./handoff.ts";

describe("the handoff example on its sample, offline", () => {
  it("hands plan → work → review along, keeping each typed payload, and ends with a cited answer", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-handoff-")) });
    const { state } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    expect(state.handoffs.map((handoff) => `${handoff.from}→${handoff.to}`)).toEqual(["plan→execute", "execute→review", "review→finish"]);
    expect(state.handoffs[1]!.payload).toEqual(state.work);
    expect(state.work!.answer).toMatch(/Apollo 11.*\[apollo-11#\d\]/);
    expect(state.work!.sources.length).toBeGreaterThan(0);
    expect(state.work!.sources.every((source) => state.work!.answer.includes(`[${source}]`))).toBe(true);
    expect(state).toMatchObject({ review: { approved: true }, refinements: 0, terminationReason: "approved" });
    const answer = example.output(state);
    expect(answer.citations.length).toBeGreaterThan(0);
    expect(seen.flatMap((event) => (event.type === "decision" ? [`${event.by}→${event.next}`] : []))).toEqual(["planner→executor", "executor→reviewer", "reviewer→finish"]);
  });
});
