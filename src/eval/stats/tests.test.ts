import { describe, expect, it } from "vitest";
import { EvalStatsError } from "./errors.ts";
import { binomialTwoSidedP, mcnemar, pairedBootstrap, signTest } from "./tests.ts";

/** 2 × P(X ≤ min(k, n − k)) for X ~ Binomial(n, 1/2), in exact integer arithmetic, to 15 significant digits. */
function exactBinomialP(k: number, n: number): number {
  const tail = Math.min(k, n - k);
  let coefficient = 1n;
  let sum = 0n;
  for (let i = 0; i <= tail; i++) {
    sum += coefficient;
    coefficient = (coefficient * BigInt(n - i)) / BigInt(i + 1);
  }
  const scale = 10n ** 30n;
  return Math.min(1, Number((2n * sum * scale) / 2n ** BigInt(n)) / 1e30);
}

const pairs = (positive: number, negative: number, ties = 0) => ({
  a: [...Array<number>(positive).fill(0), ...Array<number>(negative).fill(1), ...Array<number>(ties).fill(0.5)],
  b: [...Array<number>(positive).fill(1), ...Array<number>(negative).fill(0), ...Array<number>(ties).fill(0.5)],
});

describe("signTest", () => {
  it("gives the exact two-sided p-value for 9 improvements and 1 regression", () => {
    const { a, b } = pairs(9, 1);
    expect(signTest(a, b)).toEqual({ positive: 9, negative: 1, ties: 0, pValue: 0.021484375 });
    expect(signTest(b, a)).toEqual({ positive: 1, negative: 9, ties: 0, pValue: 0.021484375 });
  });

  it("drops ties and answers 1 when every pair ties", () => {
    const { a, b } = pairs(9, 1, 25);
    expect(signTest(a, b)).toEqual({ positive: 9, negative: 1, ties: 25, pValue: 0.021484375 });
    expect(signTest([0.3, 1], [0.3, 1])).toEqual({ positive: 0, negative: 0, ties: 2, pValue: 1 });
    expect(signTest([], [])).toEqual({ positive: 0, negative: 0, ties: 0, pValue: 1 });
  });

  it("handles n = 5000 without overflow, matching exact integer arithmetic", () => {
    const { a, b } = pairs(2600, 2400);
    const { pValue } = signTest(a, b);
    expect(pValue).toBeGreaterThan(0.004);
    expect(pValue).toBeLessThan(0.006);
    expect(pValue).toBeCloseTo(exactBinomialP(2600, 5000), 12);
  });

  it("says which lengths differ", () => {
    expect(() => signTest([1, 2, 3], [1, 2])).toThrow(EvalStatsError);
    expect(() => signTest([1, 2, 3], [1, 2])).toThrow(/a has 3 values and b has 2/);
    expect(() => signTest([1, 2, 3], [1, 2])).toThrow(expect.objectContaining({ code: "EVAL_STATS_INVALID", category: "user", details: { function: "signTest", lengthA: 3, lengthB: 2 } }));
  });
});

describe("binomialTwoSidedP", () => {
  it("matches exact integer arithmetic from tiny to 10,000 trials", () => {
    const cases: Array<[number, number]> = [[0, 1], [1, 1], [0, 6], [3, 6], [1, 10], [30, 100], [480, 1000], [2450, 5000], [4900, 10_000], [4801, 10_000]];
    for (const [k, n] of cases) {
      const expected = exactBinomialP(k, n);
      expect(binomialTwoSidedP(k, n), `k=${k} n=${n}`).toBeCloseTo(expected, 12);
      if (expected > 1e-300) expect(Math.abs(binomialTwoSidedP(k, n) / expected - 1), `k=${k} n=${n}`).toBeLessThan(1e-9);
    }
  });

  it("is symmetric, capped at 1 and underflows to 0 rather than NaN", () => {
    expect(binomialTwoSidedP(3, 10)).toBe(binomialTwoSidedP(7, 10));
    expect(binomialTwoSidedP(5000, 10_000)).toBe(1);
    expect(binomialTwoSidedP(0, 0)).toBe(1);
    expect(binomialTwoSidedP(0, 10_000)).toBe(0);
    expect(binomialTwoSidedP(40, 10_000)).toBe(0);
  });

  it("rejects counts that are not whole or exceed the trials", () => {
    expect(() => binomialTwoSidedP(7, 5)).toThrow(/0 ≤ successes ≤ trials, got 7 of 5/);
    expect(() => binomialTwoSidedP(1.5, 5)).toThrow(EvalStatsError);
  });
});

describe("mcnemar", () => {
  it("gives the exact p-value on the discordant pairs (no mid-p)", () => {
    const a = [true, true, true, true, true, true, true, false, false];
    const b = [false, false, false, false, false, false, true, false, false];
    expect(mcnemar(a, b)).toEqual({ b01: 0, b10: 6, pValue: 0.03125 });
    expect(mcnemar(b, a)).toEqual({ b01: 6, b10: 0, pValue: 0.03125 });
  });

  it("answers 1 without discordant pairs and checks lengths", () => {
    expect(mcnemar([true, false], [true, false])).toEqual({ b01: 0, b10: 0, pValue: 1 });
    expect(() => mcnemar([true], [])).toThrow(/mcnemar needs paired lists of equal length, but a has 1 values and b has 0/);
  });
});

describe("pairedBootstrap", () => {
  const a = Array.from({ length: 80 }, (_, index) => (index % 5) / 4);
  const b = a.map((score, index) => Math.min(1, score + (index % 3 === 0 ? 0.25 : 0)));

  it("is deterministic for a seed and estimates the mean difference b − a", () => {
    const result = pairedBootstrap(a, b, { seed: 5 });
    expect(pairedBootstrap(a, b, { seed: 5 })).toEqual(result);
    expect(pairedBootstrap(a, b, { seed: 6 }).ci).not.toEqual(result.ci);
    const expected = b.reduce((sum, score, index) => sum + score - a[index]!, 0) / a.length;
    expect(result.meanDiff).toBeCloseTo(expected, 12);
    expect(result.ci[0]).toBeGreaterThan(0);
    expect(result.ci[1]).toBeGreaterThan(result.meanDiff);
    expect(result.pValue).toBeLessThan(0.01);
  });

  it("gives a constant shift the CI [c, c] and the smallest p the +1 correction allows", () => {
    const shifted = pairedBootstrap([0, 0.5, 1], [0.25, 0.75, 1.25], { iterations: 999 });
    expect(shifted).toEqual({ meanDiff: 0.25, ci: [0.25, 0.25], pValue: 2 / 1000 });
  });

  it("finds nothing between identical runs or in no data", () => {
    expect(pairedBootstrap(a, a)).toEqual({ meanDiff: 0, ci: [0, 0], pValue: 1 });
    expect(pairedBootstrap([], [])).toEqual({ meanDiff: 0, ci: [0, 0], pValue: 1 });
  });

  it("reports the p-value the same whichever run comes first", () => {
    expect(pairedBootstrap(b, a, { seed: 5 }).pValue).toBeCloseTo(pairedBootstrap(a, b, { seed: 5 }).pValue, 12);
    expect(pairedBootstrap(b, a, { seed: 5 }).meanDiff).toBeCloseTo(-pairedBootstrap(a, b, { seed: 5 }).meanDiff, 12);
  });

  it("rejects unequal lengths, non-finite scores and a significance level in place of a confidence level", () => {
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(/pairedBootstrap needs paired lists of equal length, but a has 2 values and b has 1/);
    expect(() => pairedBootstrap([1], [Number.POSITIVE_INFINITY])).toThrow(/Infinity at index 0/);
    expect(() => pairedBootstrap([1], [1], { level: 0.05 })).toThrow(EvalStatsError);
  });
});
