import type { EvalReport, SampleResult } from "../report.ts";
import { barChart, escapeHtml, lineChart, scatterChart, type BarCategory } from "./charts.ts";
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
  sampleCost,
  sampleErrors,
  sampleLatencyMs,
  sampleScore,
  scorerNames,
} from "./format.ts";

/*
 * One self-contained HTML page: no scripts at all (a Content-Security-Policy forbids them besides), no external
 * fonts, stylesheets or images. All report text is escaped — outputs may hold `<script>` and the like.
 */

const OUTPUT_CLIP = 600;
const REASON_CLIP = 300;

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#111827;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}h3{font-size:14px;margin:12px 0 4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dt{color:#6b7280}dd{margin:0}
table{border-collapse:collapse;margin:8px 0;width:100%}th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f9fafb}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;max-width:420px}
.gate{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:600}.pass{color:#065f46;background:#d1fae5}.fail{color:#991b1b;background:#fee2e2}.none{color:#374151;background:#f3f4f6}
td ul{margin:0;padding-left:16px}.error{color:#991b1b}.muted{color:#6b7280}
svg.chart{display:block;margin:8px 0;font:11px system-ui,sans-serif}svg .grid{stroke:#e5e7eb}svg .whisker line{stroke:#111827;stroke-width:1.5}svg .threshold{stroke:#dc2626;stroke-width:2;stroke-dasharray:4 3}
svg .tick,svg .ci-label,svg .axis-label{fill:#6b7280}svg .value{font-weight:600}svg .point{fill:#2563eb;fill-opacity:.7}
`;

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const h = escapeHtml;
const cell = (value: string, numeric = false): string => `<td${numeric ? ' class="num"' : ""}>${h(value)}</td>`;
const row = (cells: string[]): string => `<tr>${cells.join("")}</tr>`;
const table = (head: string[], rows: string[], className = ""): string =>
  `<table${className ? ` class="${className}"` : ""}><thead>${row(head.map((name) => `<th>${h(name)}</th>`))}</thead><tbody>${rows.join("")}</tbody></table>`;

function verdict(passes: boolean | undefined, text: string): string {
  const kind = passes === undefined ? "none" : passes ? "pass" : "fail";
  return `<span class="gate ${kind}">${h(text)}</span>`;
}

function header(report: EvalReport): string {
  const { settings } = report;
  const setting = [
    `${settings.epochs} epochs`,
    `reducer ${settings.reducer}`,
    `concurrency ${settings.concurrency}`,
    `seed ${settings.seed}`,
    ...(settings.limit === undefined ? [] : [`limit ${settings.limit}`]),
    ...(settings.replayed ? ["replayed"] : []),
  ].join(" · ");
  const items: Array<[string, string]> = [
    ["Model", modelLabel(report)],
    ...(report.variant === undefined ? [] : ([["Variant", report.variant]] as Array<[string, string]>)),
    ["Date", report.createdAt],
    ["Duration", formatMs(report.durationMs)],
    ["Samples", `${formatCount(report.samples.length)} × ${settings.epochs} epochs`],
    ["Settings", setting],
  ];
  const failures = (report.gate?.failures ?? []).map((failure) => `<li>${h(`[${failure.kind}]${failure.scorer === undefined ? "" : ` ${failure.scorer}`}: ${failure.message}`)}</li>`);
  return [
    `<header><h1>${h(report.suite)}</h1>`,
    report.description === undefined ? "" : `<p class="muted">${h(report.description)}</p>`,
    `<dl>${items.map(([name, value]) => `<dt>${h(name)}</dt><dd>${h(value)}</dd>`).join("")}`,
    `<dt>Gate</dt><dd id="gate" data-passed="${report.gate ? String(report.gate.passed) : "none"}">${verdict(report.gate?.passed, gateLabel(report))}</dd></dl>`,
    failures.length ? `<ul class="gate-failures">${failures.join("")}</ul>` : "",
    `</header>`,
  ].join("");
}

function scorerSection(report: EvalReport): string {
  const names = scorerNames(report);
  const categories: BarCategory[] = names.flatMap((name) => {
    const metric = report.metrics[name];
    return metric ? [{ label: name, bars: [{ value: metric.mean, ci: metric.ci, threshold: report.thresholds[name], series: 0, data: { "data-scorer": name } }] }] : [];
  });
  const rows = names.map((name) => {
    const metric = report.metrics[name];
    const threshold = report.thresholds[name];
    const passes = metricPasses(report, name);
    const description = report.scorers.find((scorer) => scorer.name === name)?.description ?? "";
    return `<tr class="metric" data-scorer="${h(name)}">${cell(name)}${cell(description)}${cell(metric ? formatScore(metric.mean) : "n/a", true)}${cell(metric ? formatStderr(metric.stderr) : "", true)}${cell(metric ? formatCi(metric.ci) : "", true)}${cell(metric ? String(metric.n) : "0", true)}${cell(metric ? formatScore(metric.min) : "", true)}${cell(metric ? formatScore(metric.max) : "", true)}${cell(threshold === undefined ? "—" : `≥ ${formatScore(threshold)}`, true)}<td>${verdict(passes, passes === undefined ? "no threshold" : passes ? "pass" : "fail")}</td></tr>`;
  });
  return [
    `<section id="scorers"><h2>Mean score per scorer (95% CI)</h2>`,
    barChart("chart-scorers", "Mean score per scorer with 95% confidence intervals", categories),
    table(["scorer", "description", "mean", "± stderr", "95% CI", "n", "min", "max", "threshold", "result"], rows),
    `</section>`,
  ].join("");
}

function groupSection(report: EvalReport): string {
  const names = scorerNames(report);
  const charts = Object.entries(report.groups).map(([key, values], index) => {
    const categories: BarCategory[] = Object.entries(values).map(([value, byScorer]) => ({
      label: `${value} (n=${Object.values(byScorer)[0]?.n ?? 0})`,
      bars: names.flatMap((name, series) => {
        const metric = byScorer[name];
        return metric ? [{ value: metric.mean, series, data: { "data-group": key, "data-group-value": value, "data-scorer": name } }] : [];
      }),
    }));
    return `<h3>by ${h(key)}</h3>${barChart(`chart-group-${index}`, `Mean score by ${key}`, categories, names)}`;
  });
  return charts.length ? `<section id="groups"><h2>Groups</h2>${charts.join("")}</section>` : "";
}

function usageSection(report: EvalReport): string {
  const { usage } = report;
  const items: Array<[string, string]> = [
    ["model calls", formatCount(usage.modelCalls)],
    ["tokens", `${formatCount(usage.totalTokens)} (${formatCount(usage.inputTokens)} in / ${formatCount(usage.outputTokens)} out)`],
    ["cost", formatCost(usage.costUsd)],
    ["latency", `p50 ${formatMs(usage.latencyMs.p50)} · p95 ${formatMs(usage.latencyMs.p95)} · mean ${formatMs(usage.latencyMs.mean)}`],
    ["errors", formatCount(usage.errors)],
  ];
  return `<section id="usage"><h2>Usage</h2><dl>${items.map(([name, value]) => `<dt>${h(name)}</dt><dd>${h(value)}</dd>`).join("")}</dl></section>`;
}

function costSection(report: EvalReport): string {
  const first = scorerNames(report)[0];
  if (first === undefined || report.samples.length === 0) return "";
  const points = report.samples.map((sample) => ({ cost: sampleCost(sample), score: sampleScore(sample, first), label: sample.id }));
  const title = `Cost vs ${first} score, one point per sample${report.variant === undefined ? "" : ` (variant ${report.variant})`}`;
  return `<section id="cost"><h2>${h(title)}</h2>${scatterChart("chart-cost", title, points)}</section>`;
}

function epochSection(report: EvalReport): string {
  const series = scorerNames(report).flatMap((name) => (report.epochMeans[name] ? [{ name, values: report.epochMeans[name] }] : []));
  if (series.length === 0) return "";
  const epochs = Math.max(...series.map((entry) => entry.values.length));
  const rows = series.map((entry) => row([cell(entry.name), ...Array.from({ length: epochs }, (_, index) => cell(entry.values[index] === undefined ? "" : formatScore(entry.values[index]), true))]));
  return [
    `<section id="epochs"><h2>Mean score per epoch</h2>`,
    lineChart("chart-epochs", "Mean score per epoch and scorer", series),
    table(["scorer", ...Array.from({ length: epochs }, (_, index) => `epoch ${index + 1}`)], rows),
    `</section>`,
  ].join("");
}

function sampleRow(sample: SampleResult, names: string[]): string {
  const outputs = sample.epochs.map((epoch) => `${sample.epochs.length > 1 ? `[epoch ${epoch.epoch}] ` : ""}${clip(epoch.output, OUTPUT_CLIP)}`).join("\n");
  const reasons = sample.epochs.flatMap((epoch) =>
    Object.entries(epoch.scores).map(([name, score]) => `<li>${h(`${sample.epochs.length > 1 ? `e${epoch.epoch} ` : ""}${name} ${formatScore(score.score)}: ${clip(score.reason, REASON_CLIP)}`)}</li>`),
  );
  const errors = sampleErrors(sample).map((error) => `<li class="error">${h(clip(error, REASON_CLIP))}</li>`);
  const scores = names.map((name) => `<td class="num" data-scorer="${h(name)}" data-value="${sampleScore(sample, name)}">${h(formatScore(sampleScore(sample, name)))}</td>`);
  return `<tr class="sample" data-sample="${h(sample.id)}">${cell(sample.id)}<td><pre>${h(clip(sample.input, OUTPUT_CLIP))}</pre></td>${scores.join("")}${cell(formatCost(sampleCost(sample)), true)}${cell(formatMs(sampleLatencyMs(sample)), true)}<td><pre class="output">${h(outputs)}</pre></td><td><ul>${[...errors, ...reasons].join("")}</ul></td></tr>`;
}

function sampleSection(report: EvalReport): string {
  const names = scorerNames(report);
  const rows = report.samples.map((sample) => sampleRow(sample, names));
  return `<section id="samples"><h2>Samples</h2>${table(["id", "input", ...names, "cost", "latency", "output", "reasons"], rows, "samples")}</section>`;
}

/** The run as one self-contained HTML page with inline SVG charts; see the comment at the top of this file. */
export function toHtml(report: EvalReport): string {
  const title = `${report.suite} — eval report`;
  return [
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${h(title)}</title><style>${STYLE}</style></head>`,
    `<body data-report-version="${report.version}">`,
    header(report),
    scorerSection(report),
    groupSection(report),
    usageSection(report),
    costSection(report),
    epochSection(report),
    sampleSection(report),
    `</body></html>`,
    ``,
  ].join("\n");
}
