import { describe, expect, it } from "vitest";
import type { Sample, TaskOutput } from "../types.ts";
import { contextPrecision, retrievalHitAtK, sameSource } from "./retrieval.ts";

const context = { seed: 1 };
const output = (ids: string[]): TaskOutput => ({ output: "", text: "", context: ids.map((id) => ({ id, text: `text of ${id}` })), usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample = (sources?: string): Sample => ({ id: "s1", input: "q", ...(sources === undefined ? {} : { metadata: { sources } }) });

describe("sameSource", () => {
  it("matches a chunk to its document and a document to its chunks, not chunk to chunk", () => {
    expect(sameSource("apollo-11#2", "apollo-11")).toBe(true);
    expect(sameSource("apollo-11", "apollo-11#2")).toBe(true);
    expect(sameSource("apollo-11#2", "apollo-11#2")).toBe(true);
    expect(sameSource("apollo-11#3", "apollo-11#2")).toBe(false);
    expect(sameSource("apollo-12#2", "apollo-11")).toBe(false);
  });
});

describe("retrievalHitAtK", () => {
  it("hits when a chunk of a relevant document is in the top k", () => {
    expect(retrievalHitAtK(3).score({ sample: sample("saturn-v, apollo-11"), output: output(["gemini#1", "apollo-11#2", "mercury#4"]) }, context)).toEqual({
      score: 1,
      reason: "Relevant source apollo-11#2 is at rank 2 of 3.",
      details: { rank: 2, k: 3 },
    });
  });

  it("misses when the relevant source is ranked below k, and says what was retrieved", () => {
    const scorer = retrievalHitAtK(2);
    expect(scorer.name).toBe("hit@2");
    expect(scorer.score({ sample: sample("apollo-11"), output: output(["gemini#1", "mercury#4", "apollo-11#2"]) }, context)).toEqual({
      score: 0,
      reason: "None of apollo-11 is in the top 2; retrieved gemini#1, mercury#4.",
      details: { rank: null, k: 2, retrieved: ["gemini#1", "mercury#4"] },
    });
  });

  it("takes relevant ids from a function, and rejects a bad k or a sample without sources", () => {
    const scorer = retrievalHitAtK(1, { relevant: (item) => [(item.expected as { doc: string }).doc] });
    expect(scorer.score({ sample: { id: "s2", input: "q", expected: { doc: "gemini" } }, output: output(["gemini#1"]) }, context)).toMatchObject({ score: 1 });
    expect(() => retrievalHitAtK(0)).toThrow(/k must be a whole number ≥ 1/);
    expect(() => retrievalHitAtK(3).score({ sample: sample(), output: output(["a"]) }, context)).toThrow(/Add metadata.sources/);
  });
});

describe("contextPrecision", () => {
  it.each([
    [["apollo-11#1", "apollo-11#2", "gemini#1"], 1, [1, 2]],
    [["gemini#1", "apollo-11#1"], 0.5, [2]],
    [["apollo-11#1", "gemini#1", "apollo-11#2"], (1 + 2 / 3) / 2, [1, 3]],
    [["gemini#1", "mercury#1"], 0, []],
  ])("%j → %d", (ids, expected, ranks) => {
    const result = contextPrecision().score({ sample: sample("apollo-11"), output: output(ids) }, context);
    expect(result.score).toBeCloseTo(expected, 10);
    expect(result.details).toMatchObject({ ranks });
  });

  it("explains the ranks, and limits to k", () => {
    expect(contextPrecision().score({ sample: sample("apollo-11"), output: output(["gemini#1", "apollo-11#1"]) }, context).reason).toBe("Context precision 0.5: relevant passages at rank 2 of 2.");
    expect(contextPrecision({ k: 1 }).score({ sample: sample("apollo-11"), output: output(["gemini#1", "apollo-11#1"]) }, context)).toMatchObject({ score: 0, reason: "No relevant passage among the 1 retrieved (apollo-11 wanted)." });
  });
});
