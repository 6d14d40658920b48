import type { EvalReport, SampleResult } from "../report.ts";

/**
 * The number formats every writer uses, so the terminal table, the JUnit file and the HTML page
 * show the same figure for the same value (and a test can predict the text).
 */
export const formatScore = (value: number): string => (Number.isFinite(value) ? value.toFixed(3) : "n/a");
export const formatStderr = (value: number): string => `±${formatScore(value)}`;
export const formatCi = ([low, high]: readonly [number, number]): string => `[${formatScore(low)}, ${formatScore(high)}]`;
export const formatCount = (value: number): string => Math.round(value).toLocaleString("en-US");
export const formatCost = (usd: number): string => (usd === 0 ? "$0" : `$${usd.toFixed(usd >= 1 ? 2 : usd >= 0.01 ? 4 : 6)}`);
export const formatMs = (ms: number): string => (ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(2)} s`);
export const formatSeconds = (ms: number): string => (ms / 1_000).toFixed(3);

/** Shortens text to `max` characters (code points), marking the cut; newlines become spaces when `oneLine`. */
export function clip(text: string, max: number, { oneLine = false } = {}): string {
  const flat = oneLine ? text.replace(/\s+/g, " ").trim() : text;
  const chars = [...flat];
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** The scorers in report order, then any scored in metrics that the scorer list misses. */
export function scorerNames(report: EvalReport): string[] {
  const names = report.scorers.map((scorer) => scorer.name);
  return [...names, ...Object.keys(report.metrics).filter((name) => !names.includes(name))];
}

/** The score that passes a scorer: its threshold, or 1 (fully right) when the suite sets none. */
export const passMark = (report: EvalReport, scorer: string): number => report.thresholds[scorer] ?? 1;

/** A sample's reduced score for a scorer; 0 when the scorer did not score it. */
export const sampleScore = (sample: SampleResult, scorer: string): number => sample.scores[scorer] ?? 0;

export const sampleCost = (sample: SampleResult): number => sample.epochs.reduce((sum, epoch) => sum + epoch.usage.costUsd, 0);
export const sampleLatencyMs = (sample: SampleResult): number => sample.epochs.reduce((sum, epoch) => sum + epoch.latencyMs, 0);
export const sampleErrors = (sample: SampleResult): string[] =>
  sample.epochs.flatMap((epoch) => (epoch.error === undefined ? [] : [`epoch ${epoch.epoch}: ${epoch.error}`]));

/** The reason behind a sample's score: the reason of its lowest-scoring epoch for that scorer. */
export function worstReason(sample: SampleResult, scorer: string): string {
  const scored = sample.epochs.flatMap((epoch) => {
    const value = epoch.scores[scorer];
    return value ? [value] : [];
  });
  scored.sort((a, b) => a.score - b.score);
  return scored[0]?.reason ?? "";
}

/** The `count` samples with the lowest score on `scorer`, lowest first (ties by id, for stable output). */
export function worstSamples(report: EvalReport, scorer: string, count: number): SampleResult[] {
  return [...report.samples]
    .sort((a, b) => sampleScore(a, scorer) - sampleScore(b, scorer) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, count);
}

/** Pass/fail of a scorer's mean against its threshold; undefined when the suite sets no threshold. */
export function metricPasses(report: EvalReport, scorer: string): boolean | undefined {
  const threshold = report.thresholds[scorer];
  const mean = report.metrics[scorer]?.mean;
  return threshold === undefined || mean === undefined ? undefined : mean >= threshold;
}

export function modelLabel(report: EvalReport): string {
  return `${report.model.provider}/${report.model.name}${report.model.offline ? " (offline)" : ""}`;
}

export function gateLabel(report: EvalReport): string {
  if (!report.gate) return "no gate";
  return report.gate.passed ? "PASSED" : "FAILED";
}

export const plural = (count: number, noun: string): string => `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
