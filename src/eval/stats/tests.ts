import { bootstrapMeans, mean, minMax, percentileInterval } from "./bootstrap.ts";
import { EvalStatsError, assertFinite, assertPaired, confidenceLevel, iterationCount } from "./errors.ts";

const RESCALE_EXPONENT = 900;
const RESCALE = 2 ** RESCALE_EXPONENT;

/** value × 2^exponent without overflowing or underflowing in between; exact unless the result is subnormal. */
function timesPowerOfTwo(value: number, exponent: number): number {
  let result = value;
  let left = exponent;
  while (left < -RESCALE_EXPONENT && result !== 0) [result, left] = [result / RESCALE, left + RESCALE_EXPONENT];
  return result * 2 ** left;
}

/**
 * Exact two-sided binomial test of `successes` out of `trials` against p = 1/2: 2 × P(X ≤ min(k, n − k)), capped at 1.
 * The coefficients C(n, i) are built by cumulative products, (C(n, i) × (n − i)) / (i + 1), which stay whole numbers
 * (so small cases are exact), and are rescaled by powers of two as they grow, so n in the tens of thousands cannot overflow.
 */
export function binomialTwoSidedP(successes: number, trials: number): number {
  if (!Number.isSafeInteger(trials) || !Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new EvalStatsError(`binomialTwoSidedP needs whole numbers with 0 ≤ successes ≤ trials, got ${successes} of ${trials}.`, { details: { successes, trials } });
  }
  if (trials === 0) return 1;
  const tail = Math.min(successes, trials - successes);
  let coefficient = 1;
  let sum = 0;
  let exponent = 0; // the true coefficient and sum are these values × 2^exponent
  for (let i = 0; i <= tail; i++) {
    sum += coefficient;
    coefficient = (coefficient * (trials - i)) / (i + 1);
    if (coefficient > RESCALE) [coefficient, sum, exponent] = [coefficient / RESCALE, sum / RESCALE, exponent + RESCALE_EXPONENT];
  }
  return Math.min(1, timesPowerOfTwo(sum, exponent + 1 - trials));
}

export interface SignTestResult {
  /** Pairs where b scored higher than a. */
  positive: number;
  /** Pairs where b scored lower than a. */
  negative: number;
  /** Pairs with equal scores; left out of the test. */
  ties: number;
  pValue: number;
}

/** Exact two-sided sign test on paired scores: does b beat a more often than chance? Ties are dropped. */
export function signTest(a: readonly number[], b: readonly number[]): SignTestResult {
  assertPaired("signTest", a, b);
  assertFinite("signTest (a)", a);
  assertFinite("signTest (b)", b);
  let positive = 0;
  let negative = 0;
  a.forEach((scoreA, index) => {
    const scoreB = b[index]!;
    if (scoreB > scoreA) positive++;
    else if (scoreB < scoreA) negative++;
  });
  return { positive, negative, ties: a.length - positive - negative, pValue: binomialTwoSidedP(positive, positive + negative) };
}

export interface McNemarResult {
  /** Pairs a got wrong and b got right. */
  b01: number;
  /** Pairs a got right and b got wrong. */
  b10: number;
  pValue: number;
}

/** Exact McNemar test on paired pass/fail results: a two-sided binomial test on the discordant pairs (no mid-p). */
export function mcnemar(a: readonly boolean[], b: readonly boolean[]): McNemarResult {
  assertPaired("mcnemar", a, b);
  let b01 = 0;
  let b10 = 0;
  a.forEach((passA, index) => {
    const passB = b[index]!;
    if (!passA && passB) b01++;
    else if (passA && !passB) b10++;
  });
  return { b01, b10, pValue: binomialTwoSidedP(b01, b01 + b10) };
}

export interface PairedBootstrapOptions {
  /** Bootstrap resamples; default 2000. */
  iterations?: number;
  /** Confidence level of `ci`; default 0.95. */
  level?: number;
  /** Default 0, so the same scores always give the same result. */
  seed?: number;
}

export interface PairedBootstrapResult {
  /** Mean of b − a over the pairs. */
  meanDiff: number;
  /** Percentile bootstrap interval of the mean difference. */
  ci: [number, number];
  /** Two-sided: 2 × min(share of resampled means ≤ 0, share ≥ 0), each (count + 1) / (iterations + 1), capped at 1. */
  pValue: number;
}

/** Paired bootstrap of the mean difference b − a: resamples whole pairs, so per-sample difficulty cancels out. */
export function pairedBootstrap(a: readonly number[], b: readonly number[], options: PairedBootstrapOptions = {}): PairedBootstrapResult {
  assertPaired("pairedBootstrap", a, b);
  assertFinite("pairedBootstrap (a)", a);
  assertFinite("pairedBootstrap (b)", b);
  const level = confidenceLevel("pairedBootstrap", options.level);
  const iterations = iterationCount("pairedBootstrap", options.iterations);
  if (a.length === 0) return { meanDiff: 0, ci: [0, 0], pValue: 1 };
  const differences = a.map((scoreA, index) => b[index]! - scoreA);
  const { min, max } = minMax(differences);
  const means = bootstrapMeans(differences, iterations, options.seed ?? 0);
  let atMostZero = 0;
  let atLeastZero = 0;
  for (const value of means) {
    if (value <= 0) atMostZero++;
    if (value >= 0) atLeastZero++;
  }
  const share = (count: number) => (count + 1) / (iterations + 1);
  return {
    meanDiff: Math.min(max, Math.max(min, mean(differences))),
    ci: percentileInterval(means, level, min, max),
    pValue: Math.min(1, 2 * Math.min(share(atMostZero), share(atLeastZero))),
  };
}
