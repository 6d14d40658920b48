import { ConfigSchema, OfflineChatModel, RunEvents, createFeedbackStore, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createFeedbackRouting, example, sampleFeedback } from "./feedback-loop.ts";

describe("the feedback-loop example on its sample, offline", () => {
  it("routes to the well-rated model though the poorly rated one is cheaper, and answers from the policy", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    expect(state.model).toBe("careful");
    expect(state.reason).toMatch(/feedback ruled out "fast" \(mean 1\.80 of 5 ratings/);
    expect(state.ratings?.map(({ name, count, mean }) => ({ name, count, mean }))).toEqual([
      { name: "careful", count: 5, mean: 4.6 },
      { name: "fast", count: 5, mean: 1.8 },
    ]);
    expect(state.answer).toBe("Orders can be returned within 30 days of delivery for a full refund. [refund-policy#1]");
    expect(usage.byAgent.careful?.modelCalls).toBe(1);
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "feedback-router", next: "careful" });
    expect(example.output(state).answer).toContain('(answered by "careful": ratings careful 4.60★ (5 ratings), fast 1.80★ (5 ratings))');
  });

  it("closes the loop: new ratings change the next run's model", async () => {
    const fast = scriptedModel().reply("Within 30 days. [refund-policy#1]");
    const careful = scriptedModel().reply("Orders can be returned within 30 days of delivery. [refund-policy#1]");
    const feedback = createFeedbackStore();
    const graph = createFeedbackRouting({ feedback, models: { fast, careful } });

    // No ratings yet: the cheaper model answers.
    const first = await run(graph, { question: "Return window?" });
    expect(first.state.model).toBe("fast");
    for (const rating of [1, 2, 1]) feedback.rate({ runId: first.runId, model: "fast", rating });
    for (const rating of [5, 5, 4]) feedback.rate({ runId: `earlier-${rating}`, model: "careful", rating });
    const second = await run(graph, { question: "Return window?" });
    expect(second.state.model).toBe("careful");
    expect([fast.callCount, careful.callCount]).toEqual([1, 1]);
    expect(sampleFeedback().aggregate("model").map((rated) => rated.name)).toEqual(["careful", "fast"]);
  });
});
