/** Eval suites: define them, load their data, score, run, summarise, compare, report, gate. */
export { defineSuite, isSuite, variantsOf } from "./define-suite.ts";
export type { EpochReducer, EvalTask, Suite, SuiteDefinition, SuiteVariant, TaskResult } from "./define-suite.ts";
export { DatasetError, fromCsv, fromJson, fromJsonl, generated, parseCsv, withIds } from "./dataset.ts";
export type { RowMapper } from "./dataset.ts";
export { runSuite } from "./runner.ts";
export type { EvalProgress, EvalRunOptions } from "./runner.ts";
export type { TaskContext } from "./task.ts";
export { evaluateGate, asComparable } from "./gate.ts";
export { EVAL_REPORT_VERSION, EvalReportSchema } from "./report.ts";
export type { EpochResult, EvalReport, GateResult, MetricSummary, SampleResult } from "./report.ts";
export { SuiteNotFoundError, loadSuite, readSuites } from "./registry.ts";
export type { Sample, Score, Scorer, ScorerContext, ScorerInput, TaskOutput } from "./types.ts";
export * from "./stats/index.ts";
export * from "./scorers/index.ts";
export * from "./reports/index.ts";
// `summarize` is also the name of a text helper in the package root; this is the statistics one.
export { summarize as summarizeScores } from "./stats/index.ts";
