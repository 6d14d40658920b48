import { EvalReportSchema, type EvalReport, type EpochResult, type MetricSummary, type SampleResult } from "../report.ts";

/*
 * A small, hostile eval report for the writers' tests: two scorers over four samples and two epochs, one task
 * error, and text that must be escaped (`<script>`, quotes, `&`, `]]>`, control characters, a lone surrogate).
 * Metrics, groups and epoch means are computed from the samples, so the numbers agree with each other.
 */

export const HOSTILE_OUTPUT = `<script>alert(1)</script> "quoted" & 'single' ]]> bell\u0007 nul\u0000 end`;

type Scores = Record<string, [number, string]>;

function epoch(number: number, output: string, scores: Scores, costUsd: number, latencyMs: number, error?: string): EpochResult {
  return {
    epoch: number,
    output,
    scores: Object.fromEntries(Object.entries(scores).map(([name, [score, reason]]) => [name, { score, reason }])),
    usage: { modelCalls: 2, inputTokens: 100, outputTokens: 20, totalTokens: 120, costUsd },
    latencyMs,
    ...(error === undefined ? {} : { error }),
  };
}

function sample(id: string, difficulty: string, epochs: EpochResult[]): SampleResult {
  const names = Object.keys(epochs[0]?.scores ?? {});
  const scores = Object.fromEntries(names.map((name) => [name, mean(epochs.map((entry) => entry.scores[name]?.score ?? 0))]));
  return { id, input: `question ${id}`, expected: "42", metadata: { difficulty }, epochs, scores };
}

const mean = (values: number[]): number => (values.length ? values.reduce((sum, value) => sum + value, 0) / values.length : 0);

export function summarize(values: number[]): MetricSummary {
  const average = mean(values);
  const variance = values.length > 1 ? values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1) : 0;
  const stderr = Math.sqrt(variance / Math.max(1, values.length));
  return { n: values.length, mean: average, stderr, ci: [Math.max(0, average - 1.96 * stderr), Math.min(1, average + 1.96 * stderr)], min: Math.min(...values), max: Math.max(...values) };
}

export const SCORERS = ["exact", "f1"] as const;

/** The report; `passing` swaps in lower thresholds and a passed gate. */
export function hostileReport({ passing = false } = {}): EvalReport {
  const samples = [
    sample("s1", "easy", [epoch(1, "42", { exact: [1, "matches 42"], f1: [1, "all tokens"] }, 0.0012, 800), epoch(2, "42.", { exact: [1, "matches 42"], f1: [0.9, "extra dot"] }, 0.0012, 900)]),
    sample("s2", "easy", [
      epoch(1, HOSTILE_OUTPUT, { exact: [1, "found 42 & more"], f1: [0.8, `partial <b>bold</b>`] }, 0.002, 1200),
      epoch(2, "41", { exact: [0, `expected "42", got "41"`], f1: [0.6, "wrong digit"] }, 0.002, 1100),
    ]),
    sample("s3", "hard", [
      epoch(1, "", { exact: [0, "task failed"], f1: [0, "task failed"] }, 0, 30_000, "timeout after 30 s <boom>"),
      epoch(2, "7", { exact: [0, "expected 42, got 7"], f1: [0, "no overlap"] }, 0.003, 2500),
    ]),
    sample(`s4 <&>"'`, "hard", [epoch(1, "42", { exact: [1, "ok \ud800 lone"], f1: [0.5, "half"] }, 0.004, 1500), epoch(2, "42", { exact: [1, "ok"], f1: [0.7, "most"] }, 0.004, 1600)]),
  ];
  const metrics = Object.fromEntries(SCORERS.map((name) => [name, summarize(samples.map((entry) => entry.scores[name] ?? 0))]));
  const difficulties = ["easy", "hard"];
  const groups = {
    difficulty: Object.fromEntries(
      difficulties.map((value) => {
        const members = samples.filter((entry) => entry.metadata?.difficulty === value);
        return [value, Object.fromEntries(SCORERS.map((name) => [name, summarize(members.map((entry) => entry.scores[name] ?? 0))]))];
      }),
    ),
  };
  const epochMeans = Object.fromEntries(SCORERS.map((name) => [name, [0, 1].map((index) => mean(samples.map((entry) => entry.epochs[index]?.scores[name]?.score ?? 0)))]));
  const epochs = samples.flatMap((entry) => entry.epochs);
  const total = (pick: (entry: EpochResult) => number) => epochs.reduce((sum, entry) => sum + pick(entry), 0);
  const thresholds = passing ? { exact: 0.5 } : { exact: 0.75 };
  const report = {
    version: 1,
    suite: "arith <&> suite",
    description: `Adds numbers; "hard" ones time out`,
    createdAt: "2025-06-01T12:00:00.000Z",
    durationMs: 12_345,
    model: { provider: "scripted", name: "fake-model", offline: true },
    variant: "majority@2",
    settings: { epochs: 2, reducer: "mean", concurrency: 4, seed: 7 },
    scorers: [
      { name: "exact", description: "1 = the number matches" },
      { name: "f1", description: "token overlap" },
    ],
    samples,
    metrics,
    groups,
    epochMeans,
    usage: {
      modelCalls: total((entry) => entry.usage.modelCalls),
      inputTokens: total((entry) => entry.usage.inputTokens),
      outputTokens: total((entry) => entry.usage.outputTokens),
      totalTokens: total((entry) => entry.usage.totalTokens),
      costUsd: total((entry) => entry.usage.costUsd),
      latencyMs: { mean: total((entry) => entry.latencyMs) / epochs.length, p50: 1400, p95: 30_000 },
      errors: epochs.filter((entry) => entry.error !== undefined).length,
    },
    thresholds,
    gate: passing
      ? { passed: true, failures: [] }
      : { passed: false, failures: [{ kind: "threshold", scorer: "exact", message: "exact mean 0.625 < threshold 0.75" }, { kind: "errors", message: "1 task error <of 8>" }] },
  };
  return EvalReportSchema.parse(report);
}
