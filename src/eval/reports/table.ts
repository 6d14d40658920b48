import type { EvalReport } from "../report.ts";
import {
  clip,
  formatCi,
  formatCost,
  formatCount,
  formatMs,
  formatScore,
  formatStderr,
  gateLabel,
  metricPasses,
  modelLabel,
  plural,
  sampleErrors,
  sampleScore,
  scorerNames,
  worstReason,
  worstSamples,
} from "./format.ts";

export interface TableOptions {
  /** ANSI colours (green pass, red fail, dim labels). Off by default, so output is stable in logs and tests. */
  color?: boolean;
  /** The widest a free-text line (groups, reasons, errors) may be, in characters. Default 100. */
  width?: number;
}

const WORST = 5;
const ANSI = /\x1b\[[0-9;]*m/g;

type Paint = (code: number, text: string) => string;

/** Report text is model output: drop control characters (and escape sequences) before it reaches a terminal. */
const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
const visibleLength = (text: string): number => [...text.replace(ANSI, "")].length;
const pad = (text: string, width: number, align: "left" | "right"): string => {
  const fill = " ".repeat(Math.max(0, width - visibleLength(text)));
  return align === "left" ? text + fill : fill + text;
};

/** A box-drawn table; cells may carry ANSI colour codes, which take no width. */
function box(header: string[], rows: string[][], align: Array<"left" | "right">): string[] {
  const widths = header.map((cell, column) => Math.max(visibleLength(cell), ...rows.map((row) => visibleLength(row[column] ?? ""))));
  const rule = (left: string, middle: string, right: string) => left + widths.map((width) => "─".repeat(width + 2)).join(middle) + right;
  const line = (cells: string[]) => `│ ${cells.map((cell, column) => pad(cell, widths[column] ?? 0, align[column] ?? "left")).join(" │ ")} │`;
  return [rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤"), ...rows.map(line), rule("└", "┴", "┘")];
}

function scorerRows(report: EvalReport, paint: Paint, width: number): string[] {
  const rows = scorerNames(report).map((name) => {
    const metric = report.metrics[name];
    const threshold = report.thresholds[name];
    const passes = metricPasses(report, name);
    const mark = passes === undefined ? "—" : passes ? paint(32, "✓ pass") : paint(31, "✗ FAIL");
    return [
      clip(clean(name), Math.max(8, Math.floor(width / 3))),
      metric ? formatScore(metric.mean) : "n/a",
      metric ? formatStderr(metric.stderr) : "",
      metric ? formatCi(metric.ci) : "",
      metric ? String(metric.n) : "0",
      threshold === undefined ? "—" : `≥ ${formatScore(threshold)}`,
      mark,
    ];
  });
  return box(["scorer", "mean", "± stderr", "95% CI", "n", "threshold", "result"], rows, ["left", "right", "right", "left", "right", "right", "left"]);
}

function groupLines(report: EvalReport, width: number): string[] {
  const names = scorerNames(report);
  const lines = Object.entries(report.groups).flatMap(([key, values]) =>
    Object.entries(values).map(([value, byScorer]) => {
      const n = Object.values(byScorer)[0]?.n ?? 0;
      const scores = names.flatMap((name) => (byScorer[name] ? [`${clean(name)} ${formatScore(byScorer[name].mean)}`] : []));
      return `  ${clip(`${clean(key)}=${clean(value)}  n=${n}  ${scores.join(" · ")}`, width - 2, { oneLine: true })}`;
    }),
  );
  return lines.length ? ["Groups", ...lines] : [];
}

function usageLines(report: EvalReport, paint: Paint): string[] {
  const { usage } = report;
  const epochs = report.samples.reduce((sum, sample) => sum + sample.epochs.length, 0);
  return [
    `${paint(2, "Usage  ")} ${plural(usage.modelCalls, "model call")} · ${formatCount(usage.totalTokens)} tokens (${formatCount(usage.inputTokens)} in / ${formatCount(usage.outputTokens)} out) · ${formatCost(usage.costUsd)}`,
    `${paint(2, "Latency")} p50 ${formatMs(usage.latencyMs.p50)} · p95 ${formatMs(usage.latencyMs.p95)} · mean ${formatMs(usage.latencyMs.mean)}`,
    `${paint(2, "Errors ")} ${usage.errors ? paint(31, `${formatCount(usage.errors)} of ${plural(epochs, "epoch")} failed`) : `none (${plural(epochs, "epoch")})`}`,
  ];
}

function errorLines(report: EvalReport, width: number): string[] {
  const errors = report.samples.flatMap((sample) => sampleErrors(sample).map((message) => `${clean(sample.id)} ${clean(message)}`));
  const shown = errors.slice(0, WORST).map((line) => `  ${clip(line, width - 2, { oneLine: true })}`);
  return errors.length > WORST ? [...shown, `  … and ${errors.length - WORST} more`] : shown;
}

function worstLines(report: EvalReport, width: number): string[] {
  const first = scorerNames(report)[0];
  if (first === undefined || report.samples.length === 0) return [];
  const worst = worstSamples(report, first, WORST);
  const idWidth = Math.min(24, Math.max(...worst.map((sample) => visibleLength(clean(sample.id)))));
  return [
    `Worst ${worst.length} by ${clean(first)}`,
    ...worst.map((sample, index) => {
      const head = `  ${index + 1}. ${pad(clip(clean(sample.id), idWidth), idWidth, "left")}  ${formatScore(sampleScore(sample, first))}  `;
      const reason = clip(clean(worstReason(sample, first)), Math.max(10, width - visibleLength(head)), { oneLine: true });
      return head + reason;
    }),
  ];
}

function gateLines(report: EvalReport, paint: Paint, width: number): string[] {
  const verdict = gateLabel(report);
  const head = `${paint(1, "Gate")}    ${report.gate ? (report.gate.passed ? paint(32, `✓ ${verdict}`) : paint(31, `✗ ${verdict}`)) : `— ${verdict}`}`;
  const failures = (report.gate?.failures ?? []).map((failure) =>
    `  - ${clip(`[${failure.kind}]${failure.scorer === undefined ? "" : ` ${clean(failure.scorer)}`}: ${clean(failure.message)}`, width - 4, { oneLine: true })}`,
  );
  return [head, ...failures];
}

/**
 * A terminal summary of an eval run: what ran, one row per scorer with its threshold verdict, group breakdowns,
 * usage, errors, the five worst samples by the first scorer and the gate verdict. Plain text with box drawing.
 */
export function formatTable(report: EvalReport, options: TableOptions = {}): string {
  const width = Math.max(40, options.width ?? 100);
  const paint: Paint = (code, text) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const { settings } = report;
  const header = [
    `${paint(1, "Eval")}    ${clean(report.suite)}${report.variant === undefined ? "" : ` (variant ${clean(report.variant)})`}`,
    ...(report.description === undefined ? [] : [`        ${clip(clean(report.description), width - 8, { oneLine: true })}`]),
    `${paint(2, "Model")}   ${clean(modelLabel(report))}`,
    `${paint(2, "Samples")} ${formatCount(report.samples.length)} × ${plural(settings.epochs, "epoch")} · reducer ${clean(settings.reducer)} · concurrency ${settings.concurrency} · seed ${settings.seed}${settings.limit === undefined ? "" : ` · limit ${settings.limit}`}${settings.replayed ? " · replayed" : ""}`,
    `${paint(2, "Run")}     ${clean(report.createdAt)} · ${formatMs(report.durationMs)}`,
  ];
  const errors = errorLines(report, width);
  const sections = [
    header,
    scorerRows(report, paint, width),
    groupLines(report, width),
    [...usageLines(report, paint), ...errors],
    worstLines(report, width),
    gateLines(report, paint, width),
  ];
  return `${sections.filter((lines) => lines.length).map((lines) => lines.join("\n")).join("\n\n")}\n`;
}
