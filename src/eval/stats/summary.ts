import { bootstrapMeans, mean, minMax, percentileInterval } from "./bootstrap.ts";
import { EvalStatsError, assertFinite, confidenceLevel, iterationCount } from "./errors.ts";

export interface SummaryOptions {
  /** Confidence level of `ci`; default 0.95. */
  level?: number;
  /** Bootstrap resamples; default 2000. */
  iterations?: number;
  /** Bootstrap seed; default 0, so the same values always give the same interval. */
  seed?: number;
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation / √n; 0 when n < 2. */
  stderr: number;
  /** Percentile bootstrap interval of the mean. */
  ci: [number, number];
  min: number;
  max: number;
}

/** Mean, standard error and a seeded bootstrap interval of one score across samples. Empty input gives zeros, never NaN. */
export function summarize(values: readonly number[], options: SummaryOptions = {}): Summary {
  const level = confidenceLevel("summarize", options.level);
  const iterations = iterationCount("summarize", options.iterations);
  assertFinite("summarize", values);
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, stderr: 0, ci: [0, 0], min: 0, max: 0 };
  const { min, max } = minMax(values);
  const average = Math.min(max, Math.max(min, mean(values)));
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  const stderr = n < 2 ? 0 : Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
  const ci = percentileInterval(bootstrapMeans(values, iterations, options.seed ?? 0), level, min, max);
  return { n, mean: average, stderr, ci, min, max };
}

/** How the scores of one sample's epochs become one score. `passAtK` counts epochs scoring ≥ threshold as passes. */
export type EpochReducer = "mean" | "mode" | "max" | "min" | { passAtK: number };

/**
 * The unbiased pass@k estimator of Chen et al. 2021: the chance that k of n attempts drawn without replacement,
 * c of them correct, include at least one correct one, 1 − C(n−c, k) / C(n, k), as a product so large n cannot overflow.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || c < 0 || c > n) {
    throw new EvalStatsError(`passAtK needs whole numbers with 0 ≤ c ≤ n, got n = ${n} and c = ${c}.`, { details: { n, c, k } });
  }
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new EvalStatsError(`pass@${k} needs a whole k between 1 and the number of epochs (${n}). Run at least ${k} epochs per sample or lower k.`, { details: { n, c, k } });
  }
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/** The most frequent score after rounding to 1e-9; ties go to the higher score. */
function mode(scores: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const score of scores) {
    const key = Math.round(score * 1e9) / 1e9 + 0; // + 0 turns -0 into 0
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let best = -Infinity;
  let bestCount = 0;
  for (const [key, count] of counts) {
    if (count > bestCount || (count === bestCount && key > best)) [best, bestCount] = [key, count];
  }
  return best;
}

/** One sample's score from the scores of its epochs (repeated runs of the same sample). */
export function reduceEpochs(scores: readonly number[], reducer: EpochReducer, threshold = 1): number {
  assertFinite("reduceEpochs", scores);
  if (scores.length === 0) {
    throw new EvalStatsError("reduceEpochs got no scores; a sample needs at least one epoch. Check that the task ran and every epoch was scored.");
  }
  if (typeof reducer === "object" && reducer !== null && "passAtK" in reducer) {
    return passAtK(scores.length, scores.filter((score) => score >= threshold).length, reducer.passAtK);
  }
  switch (reducer) {
    case "mean":
      return mean(scores);
    case "mode":
      return mode(scores);
    case "max":
      return minMax(scores).max;
    case "min":
      return minMax(scores).min;
    default:
      throw new EvalStatsError(`Unknown epoch reducer ${JSON.stringify(reducer)}. Use "mean", "mode", "max", "min" or { passAtK: k }.`, { details: { reducer } });
  }
}
