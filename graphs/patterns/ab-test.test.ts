import { ConfigSchema, OfflineChatModel, createFeedbackStore, run } from "conclave";
import { describe, expect, it } from "vitest";
import { createPromptExperiment, example } from "./ab-test.ts";

describe("the ab-test example on its sample, offline", () => {
  it("splits the questions between the two prompts, scores each answer and compares the arms", async () => {
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const input = example.input(example.sample!);
    expect(input.questions).toHaveLength(12);
    const { state, usage } = await run(graph, input, { model: new OfflineChatModel({}) });

    expect(usage.modelCalls).toBe(12);
    expect(state.outcomes).toHaveLength(12);
    const arms = new Set(state.outcomes.map((outcome) => outcome.arm));
    expect(arms).toEqual(new Set(["A", "B"]));
    // The offline model answers only from passages marked with ids: B's answers cite the policy, A's cannot.
    for (const outcome of state.outcomes) expect(outcome.score).toBe(outcome.arm === "B" ? 1 : 0);
    expect(state.outcomes.find((outcome) => outcome.question.startsWith("How many business days"))?.answer).toContain("5 business days");

    const results = state.results!;
    expect(results.arms.map(({ arm, count, mean }) => ({ arm, count, mean }))).toEqual([
      { arm: "A", count: state.outcomes.filter((outcome) => outcome.arm === "A").length, mean: 0 },
      { arm: "B", count: state.outcomes.filter((outcome) => outcome.arm === "B").length, mean: 1 },
    ]);
    expect(results.comparisons[0]).toMatchObject({ baseline: "A", arm: "B", difference: 1, verdict: "better" });
    expect(example.output(state).answer).toMatch(/^A\/B test "refund-faq-prompts" over 12 questions[\s\S]*B vs A: \+1\.00, 95% CI \[1\.00, 1\.00\] → better$/);
  });

  it("gives a question the same arm on every run, and keeps outcomes in the store it is given", async () => {
    const store = createFeedbackStore();
    const first = createPromptExperiment({ store });
    const second = createPromptExperiment({ store });
    const questions = example.input(example.sample!).questions ?? [];
    expect(questions.map((question) => second.experiment.armFor(question).arm)).toEqual(questions.map((question) => first.experiment.armFor(question).arm));
    await run(first.graph, { questions: questions.slice(0, 3) }, { model: new OfflineChatModel({}) });
    await run(second.graph, { questions: questions.slice(0, 3) }, { model: new OfflineChatModel({}) });
    expect(store.list({ experiment: "refund-faq-prompts" })).toHaveLength(6);
    expect(second.experiment.results().arms.reduce((sum, arm) => sum + arm.count, 0)).toBe(6);
    store.close();
  });
});
