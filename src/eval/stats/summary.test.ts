import { describe, expect, it } from "vitest";
import { EvalStatsError } from "./errors.ts";
import { passAtK, reduceEpochs, summarize } from "./summary.ts";

/** pass@k by listing every k-subset of n epochs, the first c of which passed. */
function bruteForcePassAtK(n: number, c: number, k: number): number {
  let subsets = 0;
  let withPass = 0;
  const visit = (start: number, chosen: number[]) => {
    if (chosen.length === k) {
      subsets++;
      if (chosen.some((index) => index < c)) withPass++;
      return;
    }
    for (let index = start; index < n; index++) visit(index + 1, [...chosen, index]);
  };
  visit(0, []);
  return withPass / subsets;
}

describe("summarize", () => {
  it("gives zeros, not NaN, for no values", () => {
    expect(summarize([])).toEqual({ n: 0, mean: 0, stderr: 0, ci: [0, 0], min: 0, max: 0 });
  });

  it("computes mean, sample standard error, min and max", () => {
    const summary = summarize([1, 2, 3, 4]);
    expect(summary).toMatchObject({ n: 4, mean: 2.5, min: 1, max: 4 });
    expect(summary.stderr).toBeCloseTo(Math.sqrt(5 / 3) / 2, 12);
    expect(summarize([0.7])).toEqual({ n: 1, mean: 0.7, stderr: 0, ci: [0.7, 0.7], min: 0.7, max: 0.7 });
  });

  it("gives a constant exactly [c, c], despite rounding in the resampled means", () => {
    const summary = summarize(Array.from({ length: 37 }, () => 0.1));
    expect(summary.mean).toBe(0.1);
    expect(summary.ci).toEqual([0.1, 0.1]);
    expect(summary.stderr).toBe(0);
  });

  it("is deterministic for a seed and the interval contains the mean", () => {
    const values = Array.from({ length: 60 }, (_, index) => (index * 7919) % 13 / 12);
    const first = summarize(values, { seed: 11 });
    expect(summarize(values, { seed: 11 })).toEqual(first);
    expect(summarize(values)).toEqual(summarize(values));
    expect(summarize(values, { seed: 12 }).ci).not.toEqual(first.ci);
    expect(first.ci[0]).toBeLessThan(first.mean);
    expect(first.ci[1]).toBeGreaterThan(first.mean);
  });

  it("agrees with the normal interval on a large sample and widens with the level", () => {
    const values = Array.from({ length: 400 }, (_, index) => index % 2);
    const { mean, stderr, ci } = summarize(values, { seed: 1 });
    expect(ci[0]).toBeCloseTo(mean - 1.96 * stderr, 2);
    expect(ci[1]).toBeCloseTo(mean + 1.96 * stderr, 2);
    const narrow = summarize(values, { level: 0.8, seed: 1 }).ci;
    const wide = summarize(values, { level: 0.99, seed: 1 }).ci;
    expect(wide[1] - wide[0]).toBeGreaterThan(ci[1] - ci[0]);
    expect(ci[1] - ci[0]).toBeGreaterThan(narrow[1] - narrow[0]);
  });

  it("rejects non-finite values, a significance level passed as the confidence level, and bad iterations", () => {
    expect(() => summarize([1, Number.NaN])).toThrow(/NaN at index 1/);
    expect(() => summarize([1], { level: 0.05 })).toThrow(EvalStatsError);
    expect(() => summarize([1], { level: 0.05 })).toThrow(/confidence level .* such as 0\.95/);
    expect(() => summarize([1], { iterations: 0 })).toThrow(/iterations 0/);
  });
});

describe("reduceEpochs", () => {
  it("reduces by mean, max and min", () => {
    expect(reduceEpochs([0, 1, 1, 0.5], "mean")).toBe(0.625);
    expect(reduceEpochs([0, 1, 0.5], "max")).toBe(1);
    expect(reduceEpochs([0.2, 1, 0.5], "min")).toBe(0.2);
  });

  it("takes the mode after rounding to 1e-9, ties going to the higher score", () => {
    expect(reduceEpochs([0, 1, 0, 1], "mode")).toBe(1);
    expect(reduceEpochs([0.5, 0, 0, 0.5, 0.25], "mode")).toBe(0.5);
    expect(reduceEpochs([0.1 + 0.2, 0.3, 1], "mode")).toBe(0.3);
    expect(reduceEpochs([0, 0, 1], "mode")).toBe(0);
    expect(Object.is(reduceEpochs([-1e-12, -1e-12, 1], "mode"), 0)).toBe(true);
  });

  it("matches a brute-force enumeration of pass@k for every small n, c and k", () => {
    for (let n = 1; n <= 7; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k), `n=${n} c=${c} k=${k}`).toBeCloseTo(bruteForcePassAtK(n, c, k), 12);
      }
    }
  });

  it("counts epochs at or above the threshold as passes", () => {
    const scores = [1, 0, 0.8, 0, 1];
    expect(reduceEpochs(scores, { passAtK: 1 })).toBeCloseTo(2 / 5, 12);
    expect(reduceEpochs(scores, { passAtK: 1 }, 0.8)).toBeCloseTo(3 / 5, 12);
    expect(reduceEpochs(scores, { passAtK: 2 })).toBeCloseTo(bruteForcePassAtK(5, 2, 2), 12);
    expect(reduceEpochs(scores, { passAtK: 4 })).toBe(1);
  });

  it("stays exact for large n where the binomial coefficients overflow", () => {
    expect(passAtK(200, 1, 100)).toBeCloseTo(0.5, 12);
    expect(passAtK(2000, 0, 1000)).toBe(0);
    expect(passAtK(2000, 1000, 1)).toBeCloseTo(0.5, 12);
  });

  it("explains k larger than the number of epochs, empty scores and unknown reducers", () => {
    expect(() => reduceEpochs([1, 0, 1], { passAtK: 5 })).toThrow(/pass@5 needs a whole k between 1 and the number of epochs \(3\)/);
    expect(() => reduceEpochs([1], { passAtK: 0 })).toThrow(EvalStatsError);
    expect(() => reduceEpochs([], "mean")).toThrow(/at least one epoch/);
    expect(() => reduceEpochs([1], "median" as never)).toThrow(/Unknown epoch reducer "median"/);
    expect(() => reduceEpochs([1], { passAtK: 2 })).toThrow(expect.objectContaining({ code: "EVAL_STATS_INVALID", category: "user", details: { n: 1, c: 1, k: 2 } }));
  });
});
