import { mean } from "./bootstrap.ts";
import { EvalStatsError, iterationCount, significanceLevel } from "./errors.ts";
import { hashSeed } from "./random.ts";
import { mcnemar, pairedBootstrap, signTest } from "./tests.ts";

/** One run's per-sample scores, already reduced over epochs, keyed by scorer name. */
export interface ComparableRun {
  name: string;
  samples: Array<{ id: string; scores: Record<string, number> }>;
}

export interface CompareOptions {
  /** Significance level; default 0.05 (so intervals are 95%). */
  level?: number;
  /** Compare only this scorer. */
  metric?: string;
  /** Default 0. Each scorer's bootstrap is seeded from this and its name, so `metric` does not change results. */
  seed?: number;
  /** Bootstrap resamples; default 2000. */
  iterations?: number;
}

export type Verdict = "better" | "worse" | "no significant difference";

export interface SampleChange {
  id: string;
  a: number;
  b: number;
}

export interface ScorerComparison {
  scorer: string;
  /** Pairs where both runs have this score. */
  n: number;
  /** Paired samples left out because one run has no score from this scorer. */
  unscored: number;
  meanA: number;
  meanB: number;
  /** meanB − meanA. */
  diff: number;
  ci: [number, number];
  pairedBootstrapP: number;
  signTestP: number;
  /** Only when every score on both sides is 0 or 1. */
  mcnemarP?: number;
  /** What b is compared with a. */
  verdict: Verdict;
  /** Why the verdict is cautious (tests disagree, nothing to compare). */
  note?: string;
  /** Samples where b scored lower than a, largest drop first. */
  regressions: SampleChange[];
  /** Samples where b scored higher than a, largest gain first. */
  improvements: SampleChange[];
  /** One line for reports. */
  summary: string;
}

export interface RunComparison {
  a: string;
  b: string;
  /** Samples present in both runs. */
  paired: number;
  /** Ids only run a has; they take no part in any test. */
  onlyInA: string[];
  /** Ids only run b has. */
  onlyInB: string[];
  scorers: ScorerComparison[];
}

interface Pair {
  id: string;
  a: Record<string, number>;
  b: Record<string, number>;
}

interface Settings {
  level: number;
  iterations: number;
  seed: number;
}

function indexById(run: ComparableRun): Map<string, Record<string, number>> {
  const byId = new Map<string, Record<string, number>>();
  for (const sample of run.samples) {
    if (byId.has(sample.id)) {
      throw new EvalStatsError(`Run "${run.name}" has two samples with id "${sample.id}", so they cannot be paired. Reduce epochs to one score per sample before comparing.`, { details: { run: run.name, id: sample.id } });
    }
    byId.set(sample.id, sample.scores);
  }
  return byId;
}

function scorerNames(pairs: readonly Pair[]): string[] {
  const names = new Set<string>();
  for (const pair of pairs) for (const name of [...Object.keys(pair.a), ...Object.keys(pair.b)]) names.add(name);
  return [...names];
}

function score(run: string, id: string, scorer: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new EvalStatsError(`Run "${run}", sample "${id}": scorer "${scorer}" gave ${String(value)}; scores must be finite numbers. Fix the scorer or drop the sample.`, { details: { run, id, scorer, value: String(value) } });
}

/** Decimals that show the difference with two significant digits (at least 2, at most 6), used for every number in a line. */
function decimalsFor(diff: number): number {
  return diff === 0 ? 2 : Math.min(6, Math.max(2, 1 - Math.floor(Math.log10(Math.abs(diff)))));
}

const probability = (p: number) => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/**
 * Significant only when the paired bootstrap AND an exact test agree: McNemar for pass/fail
 * scores, the sign test otherwise. The bootstrap alone is overconfident on a handful of samples
 * (all differences one way gives p ≈ 0.001 whatever n is); the exact test is not.
 */
function decide(diff: number, level: number, bootstrapP: number, mcnemarP: number | undefined, signP: number): { verdict: Verdict; note?: string } {
  const direction: Verdict = diff > 0 ? "better" : diff < 0 ? "worse" : "no significant difference";
  const bootstrapSays = bootstrapP < level;
  const exactP = mcnemarP ?? signP;
  const exactSays = exactP < level;
  if (bootstrapSays && exactSays) return { verdict: direction };
  if (!bootstrapSays && !exactSays) return { verdict: "no significant difference" };
  const bootstrap = `the paired bootstrap (${probability(bootstrapP)})`;
  const exact = mcnemarP === undefined ? `the exact sign test (${probability(signP)})` : `McNemar's test (${probability(mcnemarP)})`;
  const [significant, other] = bootstrapSays ? [bootstrap, exact] : [exact, bootstrap];
  return { verdict: "no significant difference", note: `Only ${significant} is significant at ${level}, not ${other}; treat the difference as unproven and collect more samples.` };
}

interface SummaryFacts {
  meanA: number;
  meanB: number;
  diff: number;
  ci: [number, number];
  pairedBootstrapP: number;
  mcnemarP: number | undefined;
  level: number;
  verdict: Verdict;
  note?: string;
}

/** "b is better than a on exact: 0.62 → 0.71 (+0.09, 95% CI +0.03…+0.15), paired bootstrap p = 0.004, McNemar p = 0.006". */
function summaryLine(nameA: string, nameB: string, scorer: string, facts: SummaryFacts): string {
  const lead = facts.verdict === "no significant difference" ? `No significant difference between ${nameA} and ${nameB} on ${scorer}` : `${nameB} is ${facts.verdict} than ${nameA} on ${scorer}`;
  const decimals = decimalsFor(facts.diff);
  const number = (value: number) => value.toFixed(decimals);
  const signed = (value: number) => (value > 0 ? "+" : "") + number(value);
  const percent = `${Number(((1 - facts.level) * 100).toFixed(1))}%`;
  const tests = [`paired bootstrap ${probability(facts.pairedBootstrapP)}`, ...(facts.mcnemarP === undefined ? [] : [`McNemar ${probability(facts.mcnemarP)}`])].join(", ");
  const note = facts.note ? `. ${facts.note}` : "";
  return `${lead}: ${number(facts.meanA)} → ${number(facts.meanB)} (${signed(facts.diff)}, ${percent} CI ${signed(facts.ci[0])}…${signed(facts.ci[1])}), ${tests}${note}`;
}

function compareScorer(a: ComparableRun, b: ComparableRun, pairs: readonly Pair[], scorer: string, { level, iterations, seed }: Settings): ScorerComparison {
  const changes: SampleChange[] = [];
  for (const pair of pairs) {
    const valueA = score(a.name, pair.id, scorer, pair.a[scorer]);
    const valueB = score(b.name, pair.id, scorer, pair.b[scorer]);
    if (valueA !== undefined && valueB !== undefined) changes.push({ id: pair.id, a: valueA, b: valueB });
  }
  const valuesA = changes.map((change) => change.a);
  const valuesB = changes.map((change) => change.b);
  const bootstrap = pairedBootstrap(valuesA, valuesB, { iterations, level: 1 - level, seed: hashSeed(seed, scorer) });
  const binary = changes.length > 0 && changes.every((change) => (change.a === 0 || change.a === 1) && (change.b === 0 || change.b === 1));
  const mcnemarP = binary ? mcnemar(valuesA.map((value) => value === 1), valuesB.map((value) => value === 1)).pValue : undefined;
  const [meanA, meanB] = [mean(valuesA), mean(valuesB)];
  const diff = bootstrap.meanDiff;
  const signP = signTest(valuesA, valuesB).pValue;
  const decision = changes.length === 0 ? { verdict: "no significant difference" as const, note: `No paired sample has a "${scorer}" score in both runs.` } : decide(diff, level, bootstrap.pValue, mcnemarP, signP);
  const byId = (x: SampleChange, y: SampleChange) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  const regressions = changes.filter((change) => change.b < change.a).sort((x, y) => y.a - y.b - (x.a - x.b) || byId(x, y));
  const improvements = changes.filter((change) => change.b > change.a).sort((x, y) => y.b - y.a - (x.b - x.a) || byId(x, y));
  const summary = summaryLine(a.name, b.name, scorer, { meanA, meanB, diff, ci: bootstrap.ci, pairedBootstrapP: bootstrap.pValue, mcnemarP, level, ...decision });
  return {
    scorer, n: changes.length, unscored: pairs.length - changes.length, meanA, meanB, diff, ci: bootstrap.ci,
    pairedBootstrapP: bootstrap.pValue, signTestP: signP, ...(mcnemarP === undefined ? {} : { mcnemarP }),
    verdict: decision.verdict, ...(decision.note ? { note: decision.note } : {}), regressions, improvements, summary,
  };
}

/**
 * Compares run b with run a sample by sample: pairs samples by id, then for each scorer (or only `metric`)
 * runs a paired bootstrap, a sign test and, for pass/fail scores, McNemar's test, and gives a verdict on b.
 */
export function compareRuns(a: ComparableRun, b: ComparableRun, options: CompareOptions = {}): RunComparison {
  const level = significanceLevel("compareRuns", options.level);
  const iterations = iterationCount("compareRuns", options.iterations);
  const [byIdA, byIdB] = [indexById(a), indexById(b)];
  const pairs = [...byIdA].flatMap(([id, scores]): Pair[] => (byIdB.has(id) ? [{ id, a: scores, b: byIdB.get(id)! }] : []));
  const onlyInA = [...byIdA.keys()].filter((id) => !byIdB.has(id));
  const onlyInB = [...byIdB.keys()].filter((id) => !byIdA.has(id));
  const available = scorerNames(pairs);
  if (options.metric !== undefined && !available.includes(options.metric)) {
    throw new EvalStatsError(`No paired sample has a score from "${options.metric}". Scorers present: ${available.length ? available.join(", ") : pairs.length ? "none" : "none (no sample ids match)"}.`, { details: { metric: options.metric, available, paired: pairs.length } });
  }
  const scorers = options.metric === undefined ? available : [options.metric];
  return {
    a: a.name, b: b.name, paired: pairs.length, onlyInA, onlyInB,
    scorers: scorers.map((scorer) => compareScorer(a, b, pairs, scorer, { level, iterations, seed: options.seed ?? 0 })),
  };
}
