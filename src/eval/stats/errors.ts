import { ConclaveError } from "../../errors.ts";
import type { ConclaveErrorOptions } from "../../errors.ts";

/** The statistics were asked something they cannot answer: unpaired lists, non-finite scores, a bad level or k. */
export class EvalStatsError extends ConclaveError {
  override name = "EvalStatsError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("EVAL_STATS_INVALID", "user", message, options);
  }
}

/** Paired tests compare sample i of `a` with sample i of `b`, so both lists must be equally long. */
export function assertPaired(what: string, a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length === b.length) return;
  throw new EvalStatsError(
    `${what} needs paired lists of equal length, but a has ${a.length} values and b has ${b.length}. Pair the samples by id first (compareRuns does this) and drop the ones only one run has.`,
    { details: { function: what, lengthA: a.length, lengthB: b.length } },
  );
}

export function assertFinite(what: string, values: readonly number[]): void {
  const index = values.findIndex((value) => typeof value !== "number" || !Number.isFinite(value));
  if (index === -1) return;
  throw new EvalStatsError(`${what} got ${String(values[index])} at index ${index}; every score must be a finite number. Fix or drop the scorer result that produced it.`, {
    details: { function: what, index, value: String(values[index]) },
  });
}

/** A confidence level such as 0.95. Below 0.5 is almost surely a significance level passed by mistake. */
export function confidenceLevel(what: string, level: number | undefined): number {
  const value = level ?? 0.95;
  if (Number.isFinite(value) && value >= 0.5 && value < 1) return value;
  throw new EvalStatsError(`${what} got level ${value}; it is a confidence level between 0.5 and 1, such as 0.95 for a 95% interval.`, { details: { function: what, level: value } });
}

/** A significance level such as 0.05. Above 0.5 is almost surely a confidence level passed by mistake. */
export function significanceLevel(what: string, level: number | undefined): number {
  const value = level ?? 0.05;
  if (Number.isFinite(value) && value > 0 && value <= 0.5) return value;
  throw new EvalStatsError(`${what} got level ${value}; it is a significance level between 0 and 0.5, such as 0.05 for a 95% interval.`, { details: { function: what, level: value } });
}

export function iterationCount(what: string, iterations: number | undefined): number {
  const value = iterations ?? 2000;
  if (Number.isInteger(value) && value >= 1) return value;
  throw new EvalStatsError(`${what} got iterations ${value}; use a whole number of bootstrap resamples of at least 1 (2000 is the default).`, { details: { function: what, iterations: value } });
}
