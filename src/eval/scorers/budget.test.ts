import { describe, expect, it } from "vitest";
import type { TaskOutput } from "../types.ts";
import { costAtMost, costScore, latencyAtMost, latencyScore, tokensAtMost } from "./budget.ts";

const context = { seed: 1 };
const sample = { id: "s1", input: "q" };
const output: TaskOutput = { output: "", text: "", usage: { modelCalls: 3, inputTokens: 900, outputTokens: 300, totalTokens: 1200, costUsd: 0.0042 }, latencyMs: 1840 };

describe("budget scorers", () => {
  it("pass within budget with the measured value in details", () => {
    expect(costAtMost(0.01).score({ sample, output }, context)).toEqual({ score: 1, reason: "$0.0042 is within the budget of $0.01.", details: { cost: 0.0042, limit: 0.01 } });
    expect(latencyAtMost(2000).score({ sample, output }, context)).toEqual({ score: 1, reason: "1840 ms is within the budget of 2000 ms.", details: { latency: 1840, limit: 2000 } });
    expect(tokensAtMost(1200).score({ sample, output }, context)).toEqual({ score: 1, reason: "1200 tokens is within the budget of 1200 tokens.", details: { tokens: 1200, limit: 1200 } });
  });

  it("fail over budget", () => {
    expect(costAtMost(0.001).score({ sample, output }, context)).toMatchObject({ score: 0, reason: "$0.0042 is over the budget of $0.001." });
    expect(latencyAtMost(1000).score({ sample, output }, context)).toMatchObject({ score: 0, reason: "1840 ms is over the budget of 1000 ms." });
    expect(tokensAtMost(1000).score({ sample, output }, context)).toMatchObject({ score: 0, details: { tokens: 1200 } });
  });

  it("report cost and latency with score 1, and reject a negative budget", () => {
    expect(costScore().score({ sample, output }, context)).toEqual({ score: 1, reason: "Cost: $0.0042.", details: { cost: 0.0042 } });
    expect(latencyScore().score({ sample, output }, context)).toEqual({ score: 1, reason: "Latency: 1840 ms.", details: { latency: 1840 } });
    expect(() => costAtMost(-1)).toThrow(/the budget must be a number ≥ 0 USD/);
  });
});
