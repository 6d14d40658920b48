import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./sequential.ts";
import type { Summary } from "./sequential.ts";

describe("the sequential-pipeline example on its sample, offline", () => {
  it("extracts, cleans and summarises the incident e-mail, one checkpointed stage after another", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    expect(state.completed).toEqual(["extract", "clean", "summarise"]);
    const extracted = state.outputs.extract as { title: string; sentences: string[] };
    expect(extracted.title).toBe("Incident review: checkout outage");
    // The e-mail's header, its repeated sentence and its footer are dropped; the content is kept.
    const cleaned = state.outputs.clean as { sentences: string[]; dropped: string[] };
    expect(cleaned.dropped).toEqual(["From: ops-team@example.com", "The checkout service was down for 42 minutes on Tuesday.", "Sent from my phone", "Unsubscribe from ops digests"]);
    expect(cleaned.sentences).toHaveLength(5);
    expect(cleaned.sentences.every((sentence) => !/<|>|\s{2}/.test(sentence))).toBe(true);

    const summary = state.value as Summary;
    expect(summary).toMatchObject({ title: "Incident review: checkout outage", kept: 5, dropped: 4 });
    expect(summary.summary).toContain("42 minutes");
    expect(summary.summary).toMatch(/\[doc#\d\]/);
    expect(usage.modelCalls).toBe(1);

    const answer = example.output(state);
    expect(answer.answer.startsWith("Incident review: checkout outage\n\n")).toBe(true);
    expect(answer.citations.map((citation) => citation.source)).toContain("doc#1");
    expect(seen.filter((event) => event.type === "decision").map((event) => (event.type === "decision" ? event.reason : ""))).toEqual(["stage extract done → clean", "stage clean done → summarise", "stage summarise done → finish"]);
  });
});
