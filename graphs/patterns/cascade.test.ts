import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createCascadeExample, example } from "./cascade.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

function decisions(seen: ConclaveEvent[]) {
  return seen.flatMap((event) => (event.type === "decision" ? [event.next] : []));
}

describe("the cascade example", () => {
  it("answers its sample at the cheap tier, offline: the notes cover the question, so nothing escalates", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const { state, usage } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}), events });
    expect(state.attempts.map((attempt) => attempt.tier)).toEqual(["extractive"]);
    expect(state.final).toMatchObject({ tier: "extractive", status: "confident" });
    expect(state.final!.confidence).toBeGreaterThanOrEqual(0.7);
    expect(state.final!.answer).toContain("2014");
    expect(usage.modelCalls).toBe(1);
    expect(decisions(seen)).toEqual(["finish"]);
    expect(example.output(state).citations.map((citation) => citation.source)).toEqual(["note#1"]);
  });

  it("escalates a question its notes do not cover, and marks it for review when no tier is sure", async () => {
    const task = "Who designed the harpoons of the Philae lander?\n[note#1] Its lander, Philae, touched down on the comet in November 2014.";
    const { state } = await run(example.build(context), example.input(task), { model: new OfflineChatModel({}) });
    expect(state.attempts.map((attempt) => attempt.tier)).toEqual(["extractive", "general"]);
    expect(state.attempts[0]!.confidence).toBeLessThan(0.7);
    expect(state.final).toMatchObject({ status: "needs-review" });
  });

  it("escalates only on low confidence", async () => {
    const sure = { cheap: scriptedModel().answer({ answer: "2014", confidence: 0.9 }), strong: scriptedModel().answer({ answer: "2014", confidence: 0.95 }) };
    const confident = await run(createCascadeExample(context, sure), { task: "When did Rosetta reach 67P?" });
    expect(confident.state.final).toMatchObject({ tier: "extractive", answer: "2014", status: "confident" });
    expect(sure.strong.callCount).toBe(0);

    const unsure = { cheap: scriptedModel().answer({ answer: "2004?", confidence: 0.4 }), strong: scriptedModel().answer({ answer: "August 2014", confidence: 0.9 }) };
    const escalated = await run(createCascadeExample(context, unsure), { task: "When did Rosetta reach 67P?" });
    expect(escalated.state.attempts.map((attempt) => [attempt.tier, attempt.confidence])).toEqual([["extractive", 0.4], ["general", 0.9]]);
    expect(escalated.state.final).toMatchObject({ tier: "general", answer: "August 2014", status: "confident" });
    expect(unsure.strong.callCount).toBe(1);
  });
});
