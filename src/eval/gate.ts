import type { EvalReport, GateResult } from "./report.ts";
import { compareRuns } from "./stats/index.ts";

/**
 * The CI gate: fails when a scorer's mean is under its threshold, when more samples errored than
 * allowed, when samples did not run, or when a stored baseline is significantly better on any
 * scorer (a paired test on the samples both runs share, not a raw difference of means).
 */
export function evaluateGate(report: Omit<EvalReport, "gate">, rules: { thresholds: Record<string, number>; maxErrorRate: number; baseline?: EvalReport; incomplete?: string; level?: number }): GateResult {
  const failures: GateResult["failures"] = [];
  for (const [scorer, minimum] of Object.entries(rules.thresholds)) {
    const mean = report.metrics[scorer]?.mean ?? 0;
    if (mean < minimum) failures.push({ kind: "threshold", scorer, message: `${scorer} is ${mean.toFixed(3)}, under its threshold ${minimum}` });
  }
  const errored = report.samples.filter((sample) => sample.epochs.some((epoch) => epoch.error)).length;
  if (report.samples.length && errored / report.samples.length > rules.maxErrorRate) failures.push({ kind: "errors", message: `${errored} of ${report.samples.length} samples failed with an error (allowed: ${Math.round(rules.maxErrorRate * 100)}%)` });
  if (rules.incomplete) failures.push({ kind: "errors", message: rules.incomplete });
  if (rules.baseline) {
    const baseline = rules.baseline;
    const named = (run: { suite: string; variant?: string }) => `${run.suite}${run.variant ? `:${run.variant}` : ""}`;
    if (named(baseline) !== named(report)) {
      failures.push({ kind: "regression", message: `the baseline is a report of ${named(baseline)}, not ${named(report)}; pass the baseline of this suite and variant` });
    } else {
      const comparison = compareRuns(asComparable(baseline), asComparable(report), { level: rules.level ?? 0.05 });
      // Samples the baseline scored that this run did not are a smaller test, not a pass.
      if (comparison.paired === 0) failures.push({ kind: "regression", message: "no sample of this run is in the baseline (ids differ): nothing could be compared" });
      else if (comparison.onlyInA.length > comparison.paired) failures.push({ kind: "regression", message: `only ${comparison.paired} of the baseline's ${comparison.paired + comparison.onlyInA.length} samples ran; run the same samples (no --limit) to compare` });
      for (const result of comparison.scorers) {
        if (result.verdict === "worse") failures.push({ kind: "regression", scorer: result.scorer, message: `regression against the baseline: ${result.summary}` });
      }
    }
  }
  return { passed: failures.length === 0, failures };
}

/** A report as the comparison sees it: per-sample reduced scores. */
export function asComparable(report: Pick<EvalReport, "suite" | "variant" | "samples">): { name: string; samples: Array<{ id: string; scores: Record<string, number> }> } {
  return { name: report.variant ? `${report.suite}:${report.variant}` : report.suite, samples: report.samples.map((sample) => ({ id: sample.id, scores: sample.scores })) };
}
