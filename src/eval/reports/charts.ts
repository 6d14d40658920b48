import { formatCost, formatScore } from "./format.ts";

/*
 * Inline SVG charts for the HTML report, drawn from numbers alone (no chart library). Every number a chart
 * encodes by position is also written as text: a visible `<text>` label, a `data-*` attribute and a `<title>`.
 * Scores are drawn on a fixed 0–1 axis; values outside it are clamped for drawing only (labels keep the value).
 */

const PALETTE = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f"];
export const seriesColor = (index: number): string => PALETTE[index % PALETTE.length] ?? "#2563eb";

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const attrs = (values: Record<string, string | number>): string =>
  Object.entries(values).map(([name, value]) => ` ${name}="${escapeHtml(String(value))}"`).join("");
const text = (x: number, y: number, body: string, extra: Record<string, string | number> = {}): string =>
  `<text${attrs({ x: round(x), y: round(y), ...extra })}>${escapeHtml(body)}</text>`;
const round = (value: number): number => Math.round(value * 10) / 10;
const clamp01 = (value: number): number => Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));

const HEIGHT = 240;
const TOP = 24;
const PLOT = 160;
const LEFT = 44;
const scoreY = (value: number): number => TOP + PLOT * (1 - clamp01(value));

function scoreAxis(width: number): string {
  return [0, 0.5, 1]
    .map((tick) => `<line class="grid" x1="${LEFT}" x2="${width - 8}" y1="${scoreY(tick)}" y2="${scoreY(tick)}"/>${text(LEFT - 6, scoreY(tick) + 4, tick.toFixed(1), { class: "tick", "text-anchor": "end" })}`)
    .join("");
}

function legend(names: string[], x: number, y: number): string {
  return names
    .map((name, index) => `<g class="legend-item"><rect x="${x}" y="${y + index * 16 - 9}" width="10" height="10" fill="${seriesColor(index)}"/>${text(x + 14, y + index * 16, name)}</g>`)
    .join("");
}

export interface Bar {
  value: number;
  /** A 95% confidence interval, drawn as a whisker. */
  ci?: readonly [number, number];
  /** The passing score, drawn as a dashed line across the bar. */
  threshold?: number;
  series: number;
  data: Record<string, string | number>;
}

export interface BarCategory {
  label: string;
  bars: Bar[];
}

const BAR = 40;
const BAR_GAP = 6;
const CATEGORY_GAP = 28;

/** Bars on a 0–1 score axis, grouped in categories; `series` picks a bar's colour, `legendNames` names the series. */
export function barChart(id: string, title: string, categories: BarCategory[], legendNames: string[] = []): string {
  const body: string[] = [];
  let x = LEFT + 16;
  for (const category of categories) {
    const cis = category.bars.flatMap((bar) => (bar.ci && category.bars.length === 1 ? [`[${formatScore(bar.ci[0])}, ${formatScore(bar.ci[1])}]`] : []));
    // Room for the longest label under the category (about 6.5 px a character at 11 px), centring the bars in it.
    const labelWidth = Math.max(category.label.length, ...cis.map((label) => label.length)) * 6.5;
    const barsWidth = category.bars.length * (BAR + BAR_GAP) - BAR_GAP;
    const slack = Math.max(0, labelWidth - barsWidth) / 2;
    x += slack;
    const start = x;
    for (const bar of category.bars) {
      const y = scoreY(bar.value);
      const tooltip = `${category.label}: ${formatScore(bar.value)}${bar.ci ? ` (95% CI ${formatScore(bar.ci[0])}–${formatScore(bar.ci[1])})` : ""}`;
      body.push(`<rect${attrs({ class: "bar", x, y: round(y), width: BAR, height: round(TOP + PLOT - y), fill: seriesColor(bar.series), "data-value": bar.value, ...bar.data })}><title>${escapeHtml(tooltip)}</title></rect>`);
      let labelY = y - 5;
      if (bar.ci) {
        const [low, high] = bar.ci;
        const middle = x + BAR / 2;
        const [y1, y2] = [scoreY(low), scoreY(high)];
        body.push(`<g${attrs({ class: "whisker", "data-ci-low": low, "data-ci-high": high })}><line x1="${middle}" x2="${middle}" y1="${round(y1)}" y2="${round(y2)}"/><line x1="${middle - 6}" x2="${middle + 6}" y1="${round(y1)}" y2="${round(y1)}"/><line x1="${middle - 6}" x2="${middle + 6}" y1="${round(y2)}" y2="${round(y2)}"/></g>`);
        labelY = Math.min(labelY, y2 - 5);
      }
      if (bar.threshold !== undefined) {
        const line = { class: "threshold", x1: x - 4, x2: x + BAR + 4, y1: round(scoreY(bar.threshold)), y2: round(scoreY(bar.threshold)), "data-threshold": bar.threshold };
        body.push(`<line${attrs(line)}><title>${escapeHtml(`threshold ${formatScore(bar.threshold)}`)}</title></line>`);
      }
      body.push(text(x + BAR / 2, Math.max(10, labelY), formatScore(bar.value), { class: "value", "text-anchor": "middle" }));
      x += BAR + BAR_GAP;
    }
    body.push(text((start + x - BAR_GAP) / 2, TOP + PLOT + 16, category.label, { class: "category", "text-anchor": "middle" }));
    if (cis.length) body.push(text((start + x - BAR_GAP) / 2, TOP + PLOT + 32, cis.join(" "), { class: "ci-label", "text-anchor": "middle" }));
    x += slack + CATEGORY_GAP - BAR_GAP;
  }
  const width = Math.max(240, x + (legendNames.length ? 140 : 0));
  return `<svg${attrs({ id, class: "chart", role: "img", "aria-label": title, width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}` })}><title>${escapeHtml(title)}</title>${scoreAxis(width - (legendNames.length ? 140 : 0))}${body.join("")}${legend(legendNames, width - 128, TOP + 8)}</svg>`;
}

export interface Point {
  cost: number;
  score: number;
  label: string;
}

/** One dot per point: cost (USD) across, score up. */
export function scatterChart(id: string, title: string, points: Point[]): string {
  const width = 520;
  const right = width - 16;
  const maxCost = Math.max(0, ...points.map((point) => point.cost));
  const span = maxCost > 0 ? maxCost * 1.08 : 1;
  const costX = (cost: number): number => LEFT + (right - LEFT) * (Math.max(0, cost) / span);
  const ticks = (maxCost > 0 ? [0, maxCost / 2, maxCost] : [0])
    .map((tick) => text(costX(tick), TOP + PLOT + 16, formatCost(tick), { class: "tick", "text-anchor": "middle" }))
    .join("");
  const dots = points.map((point) => {
    const data = { class: "point", cx: round(costX(point.cost)), cy: round(scoreY(point.score)), r: 5, "data-sample": point.label, "data-cost": point.cost, "data-score": point.score };
    return `<circle${attrs(data)}><title>${escapeHtml(`${point.label}: ${formatCost(point.cost)}, score ${formatScore(point.score)}`)}</title></circle>`;
  });
  const axisLabel = text((LEFT + right) / 2, TOP + PLOT + 34, "cost per sample (USD, all epochs)", { class: "axis-label", "text-anchor": "middle" });
  return `<svg${attrs({ id, class: "chart", role: "img", "aria-label": title, width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}` })}><title>${escapeHtml(title)}</title>${scoreAxis(width)}${ticks}${dots.join("")}${axisLabel}</svg>`;
}

/** One line per series across epochs, each point labelled with its value. */
export function lineChart(id: string, title: string, series: Array<{ name: string; values: number[] }>): string {
  const epochs = Math.max(1, ...series.map((entry) => entry.values.length));
  const width = Math.max(320, LEFT + 80 * epochs + 160);
  const right = width - 160;
  const epochX = (index: number): number => (epochs === 1 ? (LEFT + right) / 2 : LEFT + 24 + ((right - LEFT - 48) * index) / (epochs - 1));
  const ticks = Array.from({ length: epochs }, (_, index) => text(epochX(index), TOP + PLOT + 16, `epoch ${index + 1}`, { class: "tick", "text-anchor": "middle" })).join("");
  const lines = series.map((entry, seriesIndex) => {
    const color = seriesColor(seriesIndex);
    const path = entry.values.map((value, index) => `${round(epochX(index))},${round(scoreY(value))}`).join(" ");
    const points = entry.values.map((value, index) => {
      const data = { class: "epoch-point", cx: round(epochX(index)), cy: round(scoreY(value)), r: 4, fill: color, "data-scorer": entry.name, "data-epoch": index + 1, "data-value": value };
      return `<circle${attrs(data)}><title>${escapeHtml(`${entry.name}, epoch ${index + 1}: ${formatScore(value)}`)}</title></circle>${text(epochX(index) + 7, scoreY(value) + (seriesIndex % 2 ? 15 : -7), formatScore(value), { class: "value", fill: color })}`;
    });
    return `<g${attrs({ class: "series", "data-scorer": entry.name })}><polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>${points.join("")}</g>`;
  });
  return `<svg${attrs({ id, class: "chart", role: "img", "aria-label": title, width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}` })}><title>${escapeHtml(title)}</title>${scoreAxis(right + 16)}${ticks}${lines.join("")}${legend(series.map((entry) => entry.name), right + 28, TOP + 8)}</svg>`;
}
