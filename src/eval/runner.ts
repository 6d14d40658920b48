import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { join } from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ConclaveConfig } from "../config/schema.ts";
import type { ModelInfo } from "../events/types.ts";
import { DefinitionError } from "../errors.ts";
import { Cassette } from "../replay/index.ts";
import type { RunOptions } from "../runtime/run.ts";
import type { EvalTask, Suite } from "./define-suite.ts";
import { variantsOf } from "./define-suite.ts";
import { evaluateGate } from "./gate.ts";
import { EVAL_REPORT_VERSION } from "./report.ts";
import type { EpochResult, EvalReport, SampleResult } from "./report.ts";
import { hashSeed, reduceEpochs, summarize } from "./stats/index.ts";
import { attempt } from "./task.ts";
import type { TaskEnvironment } from "./task.ts";
import type { Sample, Score, Scorer } from "./types.ts";

/** How an eval run goes: the model, how much at once, how many epochs, and where its calls are recorded or replayed from. */
export interface EvalRunOptions {
  config: ConclaveConfig;
  cwd: string;
  model: BaseChatModel;
  modelInfo: ModelInfo;
  /** Which variant to run (default: the suite's task, or its first variant). */
  variant?: string;
  epochs?: number;
  /** Only the first N samples. */
  limit?: number;
  /** Samples in flight at once (default 4). */
  concurrency?: number;
  /** Seeds bootstraps and judges' order (default 0). */
  seed?: number;
  /** Judge models for model-graded scorers. */
  judges?: BaseChatModel[];
  /** Options every run gets: events, cache, pricing, rate limits, resilience. */
  runOptions?: RunOptions;
  /** One cassette per sample and epoch under `dir`: recorded, or replayed with no network. */
  cassettes?: { mode: "record" | "replay"; dir: string };
  /** Stop starting samples once the run has cost this much (USD). */
  maxCostUsd?: number;
  /** A stored report to gate regressions against. */
  baseline?: EvalReport;
  signal?: AbortSignal;
  onProgress?: (progress: EvalProgress) => void;
}

export interface EvalProgress {
  done: number;
  total: number;
  errors: number;
  costUsd: number;
  /** Running mean of each scorer over the samples done. */
  means: Record<string, number>;
  last?: { id: string; scores: Record<string, number>; error?: string };
}

/**
 * Runs a suite: every sample (× epochs) through the task with bounded concurrency, scores each
 * attempt with every scorer, reduces epochs, and summarises each scorer with its mean, standard
 * error and a seeded bootstrap interval, overall and per metadata group; then applies the gate.
 * A sample whose task fails scores 0 with the error kept — one bad sample never stops the run.
 */
export async function runSuite<I, E>(suite: Suite<I, E>, options: EvalRunOptions): Promise<EvalReport> {
  const startedAt = Date.now();
  // Every run in flight listens to the eval's signal (LangGraph, requests, tools): many at once is expected, not a leak.
  if (options.signal) setMaxListeners(0, options.signal);
  const [variantName, variant] = pickVariant(suite, options.variant);
  const epochs = options.epochs ?? suite.epochs ?? 1;
  const seed = options.seed ?? 0;
  const reducer = suite.reducer ?? "mean";
  if (typeof reducer === "object" && !(Number.isInteger(reducer.passAtK) && reducer.passAtK >= 1 && reducer.passAtK <= epochs)) {
    throw new DefinitionError(`Suite "${suite.name}" reduces epochs with pass@${reducer.passAtK} but runs ${epochs} epoch(s): pass@k needs 1 <= k <= epochs. Run with --epochs ${Math.max(1, reducer.passAtK)} or more.`);
  }
  const all = typeof suite.dataset === "function" ? await suite.dataset() : suite.dataset;
  const samples = options.limit ? all.slice(0, options.limit) : all;
  const env: TaskEnvironment = { config: options.config, cwd: options.cwd, model: options.model, modelInfo: options.modelInfo, runOptions: { ...options.runOptions, ...(suite.budget ? { budget: suite.budget } : {}) }, ...(options.signal ? { signal: options.signal } : {}) };
  const results: SampleResult[] = new Array(samples.length);
  const progress: EvalProgress = { done: 0, total: samples.length, errors: 0, costUsd: 0, means: {} };
  const totals = new Map<string, number>();
  let next = 0;
  let stopped: string | undefined;
  const worker = async () => {
    while (next < samples.length && !options.signal?.aborted) {
      if (options.maxCostUsd !== undefined && progress.costUsd >= options.maxCostUsd) {
        stopped = `the eval's budget of $${options.maxCostUsd} was spent`;
        return;
      }
      const index = next++;
      const sample = samples[index]!;
      const result = await runSample(suite, variant.task, sample, epochs, seed, env, options, variantName);
      results[index] = result;
      progress.done += 1;
      progress.errors += result.epochs.some((epoch) => epoch.error) ? 1 : 0;
      progress.costUsd += result.epochs.reduce((sum, epoch) => sum + epoch.usage.costUsd, 0);
      for (const [name, score] of Object.entries(result.scores)) totals.set(name, (totals.get(name) ?? 0) + score);
      progress.means = Object.fromEntries([...totals].map(([name, total]) => [name, total / progress.done]));
      const error = result.epochs.find((epoch) => epoch.error)?.error;
      options.onProgress?.({ ...progress, last: { id: sample.id, scores: result.scores, ...(error ? { error } : {}) } });
    }
  };
  // One worker failing (a bug, not a task error: those are kept per sample) stops the others from starting more paid samples.
  let broken: unknown;
  const guarded = async () => {
    try {
      await worker();
    } catch (error) {
      broken ??= error;
      next = samples.length;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, samples.length)) }, guarded));
  if (broken !== undefined) throw broken;
  if (options.signal?.aborted) stopped ??= "the run was cancelled";
  const done = results.filter((result): result is SampleResult => result !== undefined);
  const report = summarise(suite, done, { variantName, epochs, seed, options, startedAt, ...(stopped ? { stopped } : {}) });
  return { ...report, gate: evaluateGate(report, { thresholds: suite.thresholds ?? {}, maxErrorRate: suite.maxErrorRate ?? 0, ...(options.baseline ? { baseline: options.baseline } : {}), ...(stopped ? { incomplete: `${samples.length - done.length} of ${samples.length} samples did not run: ${stopped}` } : {}) }) };
}

function pickVariant<I, E>(suite: Suite<I, E>, name: string | undefined): [string, { task: EvalTask<I, E> }] {
  const variants = variantsOf(suite);
  if (!name) return variants[0]!;
  const found = variants.find(([candidate]) => candidate === name);
  if (!found) throw new Error(`Suite "${suite.name}" has no variant "${name}". Its variants: ${variants.map(([candidate]) => candidate).join(", ")}.`);
  return found;
}

async function runSample<I, E>(suite: Suite<I, E>, task: EvalTask<I, E>, sample: Sample<I, E>, epochs: number, seed: number, env: TaskEnvironment, options: EvalRunOptions, variant: string): Promise<SampleResult> {
  const results: EpochResult[] = [];
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let cassette: Cassette | undefined;
    let tried: Awaited<ReturnType<typeof attempt>>;
    try {
      cassette = cassetteFor(options, variant, sample.id, epoch);
      tried = await attempt(suite, task, sample, env, cassette ? { cassette } : {});
    } catch (error) {
      // A replay without a recording for this sample fails that sample, not the run.
      tried = { output: { output: undefined, text: "", usage: { modelCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 }, runIds: [], error: error instanceof Error ? error.message : String(error) };
    }
    if (cassette?.mode === "record") cassette.save();
    const scores: Record<string, Score> = {};
    const scorerFailures: string[] = [];
    for (const scorer of suite.scorers) {
      if (tried.error) {
        scores[scorer.name] = { score: 0, reason: `the task failed: ${tried.error}` };
        continue;
      }
      const scored = await scoreSafely(scorer as Scorer<I, E>, sample, tried.output, { seed: hashSeed(seed, sample.id, epoch), ...(options.judges ? { judges: options.judges } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      if ("failed" in scored) scorerFailures.push(scored.reason);
      scores[scorer.name] = { score: scored.score, reason: scored.reason, ...(scored.details ? { details: scored.details } : {}) };
    }
    // A scorer that cannot score (no judge, a judge that failed) is an error to see and gate on, not a silent 0.
    const error = tried.error ?? (scorerFailures.length ? scorerFailures.join("; ") : undefined);
    results.push({ epoch, output: tried.output.text.slice(0, 2_000), scores, usage: tried.output.usage, latencyMs: tried.output.latencyMs, ...(error ? { error } : {}), ...(tried.runIds.length ? { runId: tried.runIds[0]!, runIds: tried.runIds } : {}) });
  }
  const reduced = Object.fromEntries(suite.scorers.map((scorer) => [scorer.name, reduceEpochs(results.map((epoch) => epoch.scores[scorer.name]!.score), suite.reducer ?? "mean")]));
  return { id: sample.id, input: clip(typeof sample.input === "string" ? sample.input : JSON.stringify(sample.input), 500), ...(sample.expected !== undefined ? { expected: sample.expected } : {}), ...(sample.metadata ? { metadata: sample.metadata } : {}), epochs: results, scores: reduced };
}

function cassetteFor(options: EvalRunOptions, variant: string, sampleId: string, epoch: number): Cassette | undefined {
  if (!options.cassettes) return undefined;
  // Ids that differ only in characters a file name cannot hold ("a/b", "a?b") keep apart by a hash of the id.
  const safe = sampleId.replace(/[^a-zA-Z0-9_.-]/g, "_");
  const name = safe === sampleId ? safe : `${safe}~${createHash("sha256").update(sampleId).digest("hex").slice(0, 8)}`;
  const path = join(options.cassettes.dir, variant, `${name}.${epoch}.json`);
  return options.cassettes.mode === "record" ? Cassette.recorder(path, { graph: variant }) : Cassette.load(path);
}

async function scoreSafely<I, E>(scorer: Scorer<I, E>, sample: Sample<I, E>, output: Parameters<Scorer<I, E>["score"]>[0]["output"], context: Parameters<Scorer<I, E>["score"]>[1]): Promise<Score | (Score & { failed: true })> {
  try {
    const score = await scorer.score({ sample, output }, context);
    return { ...score, score: Math.min(1, Math.max(0, Number.isFinite(score.score) ? score.score : 0)) };
  } catch (error) {
    return { score: 0, reason: `scorer "${scorer.name}" failed: ${error instanceof Error ? error.message : String(error)}`, failed: true };
  }
}

function summarise<I, E>(suite: Suite<I, E>, samples: SampleResult[], run: { variantName: string; epochs: number; seed: number; options: EvalRunOptions; startedAt: number; stopped?: string }): Omit<EvalReport, "gate"> {
  const names = suite.scorers.map((scorer) => scorer.name);
  const level = { seed: run.seed };
  const metrics = Object.fromEntries(names.map((name) => [name, summarize(samples.map((sample) => sample.scores[name]!), level)]));
  const groups: EvalReport["groups"] = {};
  for (const key of suite.groupBy ?? new Set(samples.flatMap((sample) => Object.keys(sample.metadata ?? {})))) {
    const values = new Set(samples.map((sample) => sample.metadata?.[key]).filter((value) => value !== undefined).map(String));
    // A key that is nearly unique per sample (ids, source lists) is not a grouping.
    if (!suite.groupBy && values.size > 20) continue;
    groups[key] = Object.fromEntries([...values].map((value) => [value, Object.fromEntries(names.map((name) => [name, summarize(samples.filter((sample) => String(sample.metadata?.[key]) === value).map((sample) => sample.scores[name]!), level)]))]));
  }
  const epochMeans = Object.fromEntries(names.map((name) => [name, Array.from({ length: run.epochs }, (_, index) => mean(samples.map((sample) => sample.epochs[index]?.scores[name]?.score ?? 0)))]));
  const attempts = samples.flatMap((sample) => sample.epochs);
  const latencies = attempts.map((epoch) => epoch.latencyMs).sort((a, b) => a - b);
  const sum = (pick: (usage: EpochResult["usage"]) => number) => attempts.reduce((total, epoch) => total + pick(epoch.usage), 0);
  return {
    version: EVAL_REPORT_VERSION,
    suite: suite.name,
    ...(suite.description ? { description: suite.description } : {}),
    createdAt: new Date(run.startedAt).toISOString(),
    durationMs: Date.now() - run.startedAt,
    model: run.options.modelInfo,
    ...(run.variantName !== "default" ? { variant: run.variantName } : {}),
    settings: { epochs: run.epochs, reducer: typeof (suite.reducer ?? "mean") === "string" ? (suite.reducer as string) ?? "mean" : `pass@${(suite.reducer as { passAtK: number }).passAtK}`, concurrency: run.options.concurrency ?? 4, seed: run.seed, ...(run.options.limit ? { limit: run.options.limit } : {}), ...(run.options.cassettes?.mode === "replay" ? { replayed: true } : {}) },
    scorers: suite.scorers.map((scorer) => ({ name: scorer.name, ...(scorer.description ? { description: scorer.description } : {}) })),
    samples,
    metrics,
    groups,
    epochMeans,
    usage: { modelCalls: sum((usage) => usage.modelCalls), inputTokens: sum((usage) => usage.inputTokens), outputTokens: sum((usage) => usage.outputTokens), totalTokens: sum((usage) => usage.totalTokens), costUsd: sum((usage) => usage.costUsd), latencyMs: { mean: mean(latencies), p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) }, errors: attempts.filter((epoch) => epoch.error).length },
    thresholds: suite.thresholds ?? {},
  };
}

function mean(values: number[]): number {
  return values.length ? values.reduce((total, value) => total + value, 0) / values.length : 0;
}

function percentile(sorted: number[], share: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]! : 0;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
