import { describe, expect, it } from "vitest";
import type { Sample, TaskOutput } from "../types.ts";
import { squadTokens, tokenF1, tokenOverlap } from "./overlap.ts";

const context = { seed: 1 };
const output = (text: string): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample = (expected: string | string[]): Sample<string, string | string[]> => ({ id: "s1", input: "q", expected });

describe("token F1", () => {
  it("normalises as SQuAD does", () => {
    expect(squadTokens("The  Eiffel Tower, in an old photo!")).toEqual(["eiffel", "tower", "in", "old", "photo"]);
  });

  it.each([
    ["the cat sat on the mat", "a cat sat on a mat", 1, 1, 1],
    ["cat sat", "cat sat on mat", 2 / 3, 1, 0.5],
    ["Neil Armstrong and Buzz Aldrin", "Neil Armstrong", 4 / 7, 2 / 5, 1],
    ["the the cat", "cat cat", 2 / 3, 1, 0.5],
    ["dog", "cat", 0, 0, 0],
    ["", "", 1, 1, 1],
    ["the", "cat", 0, 0, 0],
  ])("%j against %j", (prediction, reference, f1, precision, recall) => {
    const result = tokenOverlap(prediction, reference);
    expect(result.f1).toBeCloseTo(f1, 10);
    expect(result.precision).toBeCloseTo(precision, 10);
    expect(result.recall).toBeCloseTo(recall, 10);
  });

  it("scores with precision and recall in details and the reason", () => {
    expect(tokenF1().score({ sample: sample("Neil Armstrong"), output: output("Neil Armstrong and Buzz Aldrin") }, context)).toEqual({
      score: expect.closeTo(4 / 7, 10),
      reason: "Token F1 0.571: precision 0.4, recall 1.",
      details: { precision: 0.4, recall: 1 },
    });
    expect(tokenF1().score({ sample: sample("Paris"), output: output("Lyon") }, context)).toMatchObject({ score: 0, reason: "Token F1 0: precision 0, recall 0." });
  });

  it("takes the best of several references", () => {
    const result = tokenF1().score({ sample: sample(["Buzz Aldrin", "Neil Armstrong"]), output: output("Armstrong") }, context);
    expect(result).toMatchObject({ score: 2 / 3, details: { reference: "Neil Armstrong", precision: 1, recall: 0.5 } });
  });
});
