import { describe, expect, it } from "vitest";
import type { Sample, TaskOutput } from "../types.ts";
import { exact, includes, regex } from "./match.ts";
import { ScorerError } from "./shared.ts";

const context = { seed: 1 };
const output = (text: string, extra: Partial<TaskOutput> = {}): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0, ...extra });
const sample = <E>(expected?: E): Sample<string, E> => ({ id: "s1", input: "q", ...(expected === undefined ? {} : { expected }) });

describe("exact", () => {
  it("matches after normalising case, whitespace and a trailing full stop", () => {
    expect(exact().score({ sample: sample("Paris"), output: output("  PARIS. \n") }, context)).toEqual({ score: 1, reason: 'The answer equals "Paris".' });
    expect(exact().score({ sample: sample("New  York"), output: output("new york.") }, context)).toMatchObject({ score: 1 });
  });

  it("fails with what was expected and what came back", () => {
    expect(exact().score({ sample: sample("Paris"), output: output("Lyon") }, context)).toEqual({ score: 0, reason: 'Expected "Paris", got "Lyon".' });
  });

  it("compares raw text without normalize, numbers as strings, and a picked field", () => {
    expect(exact({ normalize: false }).score({ sample: sample("Paris"), output: output("paris") }, context)).toMatchObject({ score: 0 });
    expect(exact().score({ sample: sample(42), output: output("42") }, context)).toMatchObject({ score: 1 });
    const picked = exact({ pick: (out) => (out.output as { city: string }).city, name: "city" });
    expect(picked.name).toBe("city");
    expect(picked.score({ sample: sample("Oslo"), output: output("{}", { output: { city: "Oslo" } }) }, context)).toMatchObject({ score: 1 });
  });

  it("throws a ScorerError naming the sample when it has no expected answer", () => {
    expect(() => exact().score({ sample: sample<string>(), output: output("x") }, context)).toThrow(ScorerError);
    expect(() => exact().score({ sample: sample<string>(), output: output("x") }, context)).toThrow(/sample "s1" has none/);
  });
});

describe("includes", () => {
  it("needs every expected string by default, case-insensitively", () => {
    const scorer = includes();
    expect(scorer.score({ sample: sample(["Armstrong", "1969"]), output: output("ARMSTRONG walked on the Moon in 1969.") }, context)).toMatchObject({ score: 1, reason: 'The answer contains "Armstrong", "1969".' });
    expect(scorer.score({ sample: sample(["Armstrong", "1969"]), output: output("Armstrong walked on the Moon.") }, context)).toEqual({ score: 0, reason: 'The answer lacks "1969".', details: { found: ["Armstrong"], missing: ["1969"] } });
  });

  it("needs one with mode any, and respects caseSensitive", () => {
    expect(includes({ mode: "any" }).score({ sample: sample(["Lyon", "Paris"]), output: output("It is Paris.") }, context)).toMatchObject({ score: 1 });
    expect(includes({ mode: "any" }).score({ sample: sample(["Lyon", "Nice"]), output: output("It is Paris.") }, context)).toMatchObject({ score: 0, reason: 'The answer contains none of "Lyon", "Nice".' });
    expect(includes({ caseSensitive: true }).score({ sample: sample("Paris"), output: output("paris") }, context)).toMatchObject({ score: 0 });
  });
});

describe("regex", () => {
  it("matches and says what matched", () => {
    expect(regex(/\b\d{4}\b/).score({ sample: sample(), output: output("It landed in 1969.") }, context)).toEqual({ score: 1, reason: '/\\b\\d{4}\\b/ matched "1969".', details: { match: "1969", index: 13 } });
  });

  it("fails with the text, applies flags and ignores g so repeated calls agree", () => {
    expect(regex("apollo").score({ sample: sample(), output: output("Apollo 11") }, context)).toEqual({ score: 0, reason: '/apollo/ does not match "Apollo 11".' });
    const scorer = regex("apollo", { flags: "gi" });
    expect(scorer.score({ sample: sample(), output: output("Apollo 11") }, context)).toMatchObject({ score: 1 });
    expect(scorer.score({ sample: sample(), output: output("Apollo 11") }, context)).toMatchObject({ score: 1 });
  });

  it("rejects an invalid pattern when the scorer is built", () => {
    expect(() => regex("(unclosed")).toThrow(/not a valid regular expression/);
  });
});
