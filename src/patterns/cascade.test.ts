import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, run, stepBudgetOf } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createCascadeGraph } from "./cascade.ts";
import { MemoryReviewQueue } from "./review-queue.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision").map(({ by, next, reason }) => ({ by, next, reason }));
  return { events, seen, decisions };
}

describe("model cascade", () => {
  it("stops at the cheap tier when it is confident: the large model is never called", async () => {
    const small = scriptedModel().answer({ answer: "Paris", confidence: 0.95 });
    const large = scriptedModel().answer({ answer: "Paris", confidence: 0.99 });
    const { events, decisions, seen } = recorder();
    const { state, usage } = await run(createCascadeGraph({ tiers: [{ name: "small", model: small }, { name: "large", model: large }] }), { task: "What is the capital of France?" }, { events });
    expect(state.final).toEqual({ answer: "Paris", tier: "small", confidence: 0.95, status: "confident" });
    expect(state.attempts).toEqual([{ tier: "small", answer: "Paris", confidence: 0.95, statedConfidence: 0.95 }]);
    expect(state.reviewId).toBeUndefined();
    expect(small.callCount).toBe(1);
    expect(large.callCount).toBe(0);
    expect(usage.modelCalls).toBe(1);
    expect(decisions()).toEqual([{ by: "cascade", next: "finish", reason: "small: confidence 0.95 ≥ threshold 0.70" }]);
    // The tier is a Conclave agent: its calls are labelled with the tier's name.
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ agent: "small" });
    // The task reached the model as asked, under the cascade's instructions.
    expect(small.requests[0]!.map((message) => message.role)).toEqual(["system", "user"]);
    expect(small.requests[0]![1]!.content).toBe("What is the capital of France?");
  });

  it("escalates when the cheap tier is unsure, and stops at the confident one", async () => {
    const small = scriptedModel().answer({ answer: "Maybe 391", confidence: 0.4 });
    const large = scriptedModel().answer({ answer: "395", confidence: 0.9 });
    const { events, decisions } = recorder();
    const graph = createCascadeGraph({ tiers: [{ name: "small", model: small }, { name: "large", model: large }], instructions: "Compute exactly.", threshold: 0.8 });
    const { state, usage } = await run(graph, { task: "What is 17 * 23 + 4?" }, { events });
    expect(state.attempts).toEqual([
      { tier: "small", answer: "Maybe 391", confidence: 0.4, statedConfidence: 0.4 },
      { tier: "large", answer: "395", confidence: 0.9, statedConfidence: 0.9 },
    ]);
    expect(state.final).toEqual({ answer: "395", tier: "large", confidence: 0.9, status: "confident" });
    expect(decisions()).toEqual([
      { by: "cascade", next: "large", reason: "small: confidence 0.40 < threshold 0.80; escalating to large" },
      { by: "cascade", next: "finish", reason: "large: confidence 0.90 ≥ threshold 0.80" },
    ]);
    expect([small.callCount, large.callCount, usage.modelCalls]).toEqual([1, 1, 2]);
    expect(large.requests[0]![0]).toMatchObject({ role: "system", content: "Compute exactly." });
  });

  it("sends the task to review with the most confident answer when nobody is confident", async () => {
    const small = scriptedModel().answer({ answer: "1912", confidence: 0.3 });
    const medium = scriptedModel().answer({ answer: "1911", confidence: 0.6 });
    const large = scriptedModel().answer({ answer: "1910", confidence: 0.5 });
    const reviewQueue = new MemoryReviewQueue();
    const { events, decisions } = recorder();
    const tiers = [{ name: "small", model: small }, { name: "medium", model: medium }, { name: "large", model: large }];
    const { state } = await run(createCascadeGraph({ tiers, reviewQueue }), { task: "When was the obscure treaty signed?" }, { events });
    expect(state.final).toEqual({ answer: "1911", tier: "medium", confidence: 0.6, status: "needs-review" });
    expect(state.attempts.map((attempt) => attempt.tier)).toEqual(["small", "medium", "large"]);
    expect(decisions().map((decision) => decision.next)).toEqual(["medium", "large", "review", "finish"]);
    expect(decisions()[2]!.reason).toBe("large: confidence 0.50 < threshold 0.70; no tier left");
    const [item, ...others] = await reviewQueue.list("pending");
    expect(others).toEqual([]);
    expect(state.reviewId).toBe(item!.id);
    expect(item).toMatchObject({
      task: "When was the obscure treaty signed?",
      candidates: [
        { model: "small", answer: "1912", confidence: 0.3 },
        { model: "medium", answer: "1911", confidence: 0.6 },
        { model: "large", answer: "1910", confidence: 0.5 },
      ],
      reason: "no tier reached confidence 0.70 (small 0.30, medium 0.60, large 0.50)",
      status: "pending",
    });
    expect(decisions()[3]!.reason).toContain(`queued as ${item!.id}`);
  });

  it("ends as needs-review without a queue, too", async () => {
    const { state } = await run(createCascadeGraph({ tiers: [{ name: "only", model: scriptedModel().answer({ answer: "x", confidence: 0.1 }) }] }), { task: "?" });
    expect(state.final).toEqual({ answer: "x", tier: "only", confidence: 0.1, status: "needs-review" });
    expect(state.reviewId).toBeUndefined();
  });

  it("lets a custom confidence function override what the model says", async () => {
    // A verifier: an arithmetic answer must contain a number, however sure the model claims to be.
    const hasNumber = ({ text }: { text: string }) => (/\d/.test(text) ? 0.9 : 0.1);
    const small = scriptedModel().answer({ answer: "It is a large number.", confidence: 0.99 });
    const large = scriptedModel().answer({ answer: "395", confidence: 0.2 });
    const seenTasks: string[] = [];
    const { events, decisions } = recorder();
    const graph = createCascadeGraph({
      tiers: [{ name: "small", model: small }, { name: "large", model: large }],
      confidence: async (answer, task) => {
        seenTasks.push(task);
        return hasNumber(answer);
      },
    });
    const { state } = await run(graph, { task: "What is 17 * 23 + 4?" }, { events });
    expect(state.attempts).toEqual([
      { tier: "small", answer: "It is a large number.", confidence: 0.1, statedConfidence: 0.99 },
      { tier: "large", answer: "395", confidence: 0.9, statedConfidence: 0.2 },
    ]);
    expect(state.final).toEqual({ answer: "395", tier: "large", confidence: 0.9, status: "confident" });
    expect(seenTasks).toEqual(["What is 17 * 23 + 4?", "What is 17 * 23 + 4?"]);
    expect(decisions()[0]).toMatchObject({ next: "large", reason: "small: confidence 0.10 < threshold 0.70; escalating to large" });
  });

  it("escalates past a tier whose output never fits the schema", async () => {
    const small = scriptedModel().answer({ answer: "Paris", confidence: 7 }).answer({ answer: "Paris" });
    const large = scriptedModel().answer({ answer: "Paris", confidence: 0.8 });
    const { state } = await run(createCascadeGraph({ tiers: [{ name: "small", model: small }, { name: "large", model: large }] }), { task: "Capital of France?" });
    expect(state.attempts[0]).toMatchObject({ tier: "small", answer: "", confidence: 0 });
    expect(state.attempts[0]!.error).toMatch(/did not produce an answer matching its outputSchema/);
    expect(state.final).toMatchObject({ tier: "large", status: "confident" });
  });

  it("stops escalating when the budget is spent, keeping the answer it has", async () => {
    const small = scriptedModel().answer({ answer: "42", confidence: 0.5 });
    const large = scriptedModel().answer({ answer: "42", confidence: 0.9 });
    const reviewQueue = new MemoryReviewQueue();
    const { state } = await run(createCascadeGraph({ tiers: [{ name: "small", model: small }, { name: "large", model: large }], reviewQueue }), { task: "q" }, { budget: { maxModelCalls: 1 } });
    expect(large.callCount).toBe(0);
    expect(state.attempts.map((attempt) => attempt.error)).toEqual([undefined, "budget"]);
    expect(state.final).toEqual({ answer: "42", tier: "small", confidence: 0.5, status: "needs-review" });
    expect((await reviewQueue.list())[0]!.candidates).toEqual([{ model: "small", answer: "42", confidence: 0.5 }]);
  });

  it("records a step budget that covers every tier, and rejects bad options", async () => {
    const tiers = ["a", "b", "c", "d", "e", "f"].map((name) => ({ name, model: scriptedModel().answer({ answer: name, confidence: 0.1 }) }));
    const graph = createCascadeGraph({ tiers });
    expect(stepBudgetOf(graph)).toBeGreaterThanOrEqual(tiers.length + 2);
    // Escalating through all six tiers and review fits in the step limit run() derives from it.
    const { state } = await run(graph, { task: "q" });
    expect(state.attempts).toHaveLength(6);
    expect(state.final).toMatchObject({ tier: "f", status: "needs-review" });
    expect(() => createCascadeGraph({ tiers: [] })).toThrow(DefinitionError);
    expect(() => createCascadeGraph({ tiers: [tiers[0]!, tiers[0]!] })).toThrow(/distinct names/);
    expect(() => createCascadeGraph({ tiers, threshold: 1.5 })).toThrow(/between 0 and 1/);
  });
});
