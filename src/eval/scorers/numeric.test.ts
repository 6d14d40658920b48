import { describe, expect, it } from "vitest";
import type { Sample, TaskOutput } from "../types.ts";
import { extractFinalNumber, numeric } from "./numeric.ts";

const context = { seed: 1 };
const output = (text: string): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample = (expected: number | string): Sample<string, number | string> => ({ id: "s1", input: "q", expected });

describe("extractFinalNumber", () => {
  it.each([
    ["The answer is 1,234.5.", 1234.5, "last number"],
    ["Natalia sold 48 clips in April and 24 in May.\n#### 72", 72, "####"],
    ["#### 1,000 clips, not 999", 1000, "####"],
    ["-3", -3, "last number"],
    ["It drops to −3 degrees", -3, "last number"],
    ["So the total is \\boxed{18}. Check: 18 + 0 = 18, then 19 was wrong", 18, "boxed"],
    ["\\boxed{\\frac{3}{4}}", 0.75, "boxed"],
    ["From 1-3 pages we get 3", 3, "last number"],
    ["Everest is 8,849 m tall [everest#2].", 8849, "last number"],
    ["Growth was 12.5%", 12.5, "last number"],
    ["About .5 of them, i.e. 1e3 units", 1000, "last number"],
    ["COVID-19 cases that week: 250", 250, "last number"],
    ["Cases of COVID-19", 19, "last number"],
  ])("%j → %d", (text, value, via) => {
    expect(extractFinalNumber(text)).toMatchObject({ value, via });
  });

  it("reads percentages as fractions on request, and finds nothing in prose", () => {
    expect(extractFinalNumber("Growth was 12.5 %", { percentAsFraction: true })).toEqual({ value: 0.125, written: "12.5 %", via: "last number" });
    expect(extractFinalNumber("CO2 and H2O, no answer")).toBeUndefined();
  });
});

describe("numeric", () => {
  it("passes within the absolute tolerance and says what it extracted", () => {
    expect(numeric().score({ sample: sample(1234.5), output: output("The answer is 1,234.5.") }, context)).toEqual({
      score: 1,
      reason: 'Extracted 1234.5 from "1,234.5" (last number), which matches 1234.5 within 0.000001.',
      details: { extracted: 1234.5, written: "1,234.5", via: "last number", expected: 1234.5, difference: 0 },
    });
    expect(numeric().score({ sample: sample("72"), output: output("#### 72") }, context)).toMatchObject({ score: 1 });
  });

  it("fails with the extracted value and the difference", () => {
    expect(numeric().score({ sample: sample(18), output: output("\\boxed{17}") }, context)).toMatchObject({ score: 0, reason: 'Extracted 17 from "17" (boxed); expected 18 (off by 1).' });
    expect(numeric().score({ sample: sample(18), output: output("I cannot tell.") }, context)).toEqual({ score: 0, reason: 'No number found in "I cannot tell."; expected 18.', details: { expected: 18 } });
  });

  it("honours a relative tolerance and numeric strings with commas", () => {
    expect(numeric({ relative: 0.01 }).score({ sample: sample("1,000"), output: output("about 1005") }, context)).toMatchObject({ score: 1 });
    expect(numeric({ relative: 0.01 }).score({ sample: sample(1000), output: output("about 1011") }, context)).toMatchObject({ score: 0 });
    expect(numeric({ tolerance: 0.5 }).score({ sample: sample(10), output: output("10.4") }, context)).toMatchObject({ score: 1 });
  });

  it("rejects a non-numeric expected answer and a negative tolerance", () => {
    expect(() => numeric().score({ sample: sample("many"), output: output("3") }, context)).toThrow(/expects "many", which is not a number/);
    expect(() => numeric({ tolerance: -1 })).toThrow(/tolerance and relative must be numbers ≥ 0/);
  });
});
