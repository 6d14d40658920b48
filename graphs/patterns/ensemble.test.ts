import { ConfigError, ConfigSchema, OfflineChatModel, run } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createEnsembleExample, example, numberOf } from "./ensemble.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the ensemble example on its sample, offline", () => {
  it("lets three agents answer and votes: the two with a calculator agree on 80", async () => {
    const { state, usage } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}) });
    const byMember = Object.fromEntries(state.predictions.map((prediction) => [prediction.member, prediction.normalized]));
    // The offline model knows no arithmetic of its own: the member without tools gives no number, and so no vote.
    expect(byMember).toEqual({ "calculator-first": "80", estimator: "80", "mental-math": "" });
    expect(state.final).toMatchObject({ normalized: "80", method: "vote", agreement: 2 / 3, votes: { "80": 2 } });
    expect(state.final!.answer).toContain("80");
    expect(usage.toolCalls).toBe(2);
    expect(example.output(state).details).toMatchObject({ method: "vote", normalizedAnswer: "80" });
  });

  it("stacks with --aggregate stack: the stacker reads all three answers", async () => {
    const { state } = await run(createEnsembleExample({ ...context, options: { aggregate: "stack" } }), example.input(example.sample!), { model: new OfflineChatModel({}) });
    expect(state.final).toMatchObject({ method: "stack", normalized: "80", metaCalls: 2 });
  });

  it("averages with --aggregate average, and refuses other ways", async () => {
    const model = scriptedModel().reply("Answer: 80").reply("Answer: 78").reply("Answer: 82");
    const { state } = await run(createEnsembleExample({ ...context, options: { aggregate: "average" } }), { question: "q" }, { model });
    expect(state.final).toMatchObject({ method: "average", answer: "80" });
    expect(() => createEnsembleExample({ ...context, options: { aggregate: "median" } })).toThrow(ConfigError);
    expect([numberOf("Answer: 80"), numberOf("I cannot tell.")]).toEqual(["80", ""]);
  });
});
