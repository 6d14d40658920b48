import { ConfigSchema, OfflineChatModel, run } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { PROMPTS, createSelfConsistencyExample, example } from "./self-consistency.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the self-consistency example on its sample, offline", () => {
  it("asks the arithmetic question five ways and agrees on 33", async () => {
    const { state, usage } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}) });
    expect(state.samples).toHaveLength(5);
    // Each sample had its own framing of the question.
    expect(new Set(state.samples.map((sample) => sample.prompt)).size).toBe(5);
    expect(state.samples.find((sample) => sample.index === 1)!.prompt).toBe("Solve this step by step, checking each step: What is 48 / 4 + 7 * 3?");
    expect(state.final).toMatchObject({ normalized: "33", method: "majority", agreement: 1, votes: { "33": 5 } });
    expect(state.final!.answer).toContain("33");
    // Calculator, then answer: two model calls per sample, counted by the pattern and by the run alike.
    expect(usage.modelCalls).toBe(10);
    expect(usage.toolCalls).toBe(5);
    expect(example.output(state).details).toMatchObject({ normalizedAnswer: "33", agreement: 1, modelCalls: 10 });
  });

  it("takes the majority when sampled answers disagree", async () => {
    const model = scriptedModel().reply("Answer: 33").reply("Answer: 31").reply("Answer: 33");
    const { state } = await run(createSelfConsistencyExample(context, 3), { question: "What is 48 / 4 + 7 * 3?" }, { model });
    expect(state.final).toMatchObject({ normalized: "33", agreement: 2 / 3 });
    expect(model.requests.map((request) => request.at(-1)!.content).sort()).toEqual(PROMPTS.slice(0, 3).map((prompt) => prompt.replace("{question}", "What is 48 / 4 + 7 * 3?")).sort());
  });
});
