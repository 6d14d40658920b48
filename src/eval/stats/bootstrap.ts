import { randomIndex, seededRandom } from "./random.ts";

/** The arithmetic mean, 0 for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * The means of `iterations` resamples (with replacement) of `values`, sorted ascending.
 * Deterministic for a given seed. `values` must not be empty.
 */
export function bootstrapMeans(values: readonly number[], iterations: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const n = values.length;
  const means = new Float64Array(iterations);
  for (let iteration = 0; iteration < iterations; iteration++) {
    let sum = 0;
    for (let draw = 0; draw < n; draw++) sum += values[randomIndex(random, n)]!;
    means[iteration] = sum / n;
  }
  return means.sort();
}

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, interpolating linearly between neighbours. */
export function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return low + (high - low) * (position - below);
}

/**
 * The percentile bootstrap interval at confidence `level`, clamped to [min, max] of the data:
 * a resampled mean can never leave that range, so any excursion is rounding (and a constant's CI is exactly [c, c]).
 */
export function percentileInterval(sorted: Float64Array, level: number, min: number, max: number): [number, number] {
  const tail = (1 - level) / 2;
  const clamp = (value: number) => Math.min(max, Math.max(min, value));
  return [clamp(quantile(sorted, tail)), clamp(quantile(sorted, 1 - tail))];
}

export function minMax(values: readonly number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return values.length === 0 ? { min: 0, max: 0 } : { min, max };
}
