import { describe, expect, it } from "vitest";
import type { TaskOutput } from "../types.ts";
import { citationCorrectness } from "./citations.ts";

const context = { seed: 1 };
const output = (text: string, extra: Partial<TaskOutput> = {}): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0, ...extra });
const sample = { id: "s1", input: "q" };
const corpus: Record<string, string> = {
  "apollo-11": "Apollo 11 landed on the Moon on 20 July 1969. Armstrong said: that's one small step for man,\n one giant leap for mankind.",
  everest: "Mount Everest is 8,849 metres tall.",
};
const scorer = citationCorrectness({ sources: (id) => corpus[id] });

describe("citationCorrectness", () => {
  it("passes when every cited source exists and contains what is quoted", () => {
    const text = 'Armstrong said "one small step for man, one giant leap" on landing [apollo-11]. Everest is 8,849 m tall [everest].';
    expect(scorer.score({ sample, output: output(text) }, context)).toEqual({ score: 1, reason: "All 2 citations hold.", details: { citations: 2, correct: 2, problems: [] } });
  });

  it("scores the share of correct citations and names unknown sources and missing quotes", () => {
    const text = 'He said "a giant leap for all robots" [apollo-11]. Everest is tall [everest]. K2 is 8,611 m [k2].';
    const result = scorer.score({ sample, output: output(text) }, context);
    expect(result.score).toBeCloseTo(1 / 3, 10);
    expect(result.reason).toBe('1 of 3 citations hold: [apollo-11] does not contain "a giant leap for all robots"; [k2] is not a known source.');
  });

  it("falls back from a chunk id to its document, and uses output.citations when given", () => {
    expect(scorer.score({ sample, output: output("Everest is tall [everest#3].") }, context)).toMatchObject({ score: 1 });
    const reported = output("no markers here", { citations: [{ source: "nowhere", text: "A claim." }] });
    expect(scorer.score({ sample, output: reported }, context)).toMatchObject({ score: 0, reason: "0 of 1 citations hold: [nowhere] is not a known source." });
  });

  it("scores an answer without citations 0, or 1 when citations are optional", () => {
    expect(scorer.score({ sample, output: output("Everest is tall.") }, context)).toEqual({ score: 0, reason: "The answer cites no sources." });
    expect(citationCorrectness({ sources: (id) => corpus[id], requireCitations: false }).score({ sample, output: output("Everest is tall.") }, context)).toMatchObject({ score: 1 });
  });
});
