// Statistics for evals: seeded randomness, summaries with bootstrap intervals, epoch reducers,
// paired significance tests and run-versus-run comparison. Pure functions; same inputs and seed, same results.
export { EvalStatsError } from "./errors.ts";
export { hashSeed, seededRandom, shuffle, stableShare } from "./random.ts";
export { passAtK, reduceEpochs, summarize } from "./summary.ts";
export type { EpochReducer, Summary, SummaryOptions } from "./summary.ts";
export { binomialTwoSidedP, mcnemar, pairedBootstrap, signTest } from "./tests.ts";
export type { McNemarResult, PairedBootstrapOptions, PairedBootstrapResult, SignTestResult } from "./tests.ts";
export { compareRuns } from "./compare.ts";
export type { ComparableRun, CompareOptions, RunComparison, SampleChange, ScorerComparison, Verdict } from "./compare.ts";
