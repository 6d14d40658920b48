import { describe, expect, it } from "vitest";
import { hostileReport, SCORERS } from "./fixture.test-helper.ts";
import { formatCi, formatCost, formatCount, formatMs, formatScore, formatStderr, sampleCost } from "./format.ts";
import { toHtml } from "./html.ts";

/** The page's visible text, roughly: tags dropped and entities decoded. */
const visibleText = (html: string): string =>
  html
    .replace(/<style>[\s\S]*?<\/style>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

describe("toHtml", () => {
  const report = hostileReport();
  const html = toHtml(report);
  const text = visibleText(html);

  it("escapes hostile report text everywhere", () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; &#39;single&#39;");
    expect(html).toContain('data-sample="s4 &lt;&amp;&gt;&quot;&#39;"');
    expect(html).toContain("<h1>arith &lt;&amp;&gt; suite</h1>");
    expect(html).toContain("timeout after 30 s &lt;boom&gt;");
    expect(html).toContain("1 task error &lt;of 8&gt;");
  });

  it("is self-contained: nothing loaded from elsewhere, scripts forbidden", () => {
    expect(html).not.toMatch(/\b(src|href)\s*=|url\(|@import|https?:\/\//i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'`);
  });

  it("shows the header: suite, model, date, settings and gate verdict", () => {
    expect(html).toContain("<title>arith &lt;&amp;&gt; suite — eval report</title>");
    for (const part of ["scripted/fake-model (offline)", "majority@2", "2025-06-01T12:00:00.000Z", "2 epochs · reducer mean · concurrency 4 · seed 7", "FAILED"]) expect(text).toContain(part);
    expect(html).toContain('id="gate" data-passed="false"');
    expect(toHtml(hostileReport({ passing: true }))).toContain('<span class="gate pass">PASSED</span>');
  });

  it("contains every metric number as text", () => {
    for (const name of SCORERS) {
      const metric = report.metrics[name]!;
      for (const value of [formatScore(metric.mean), formatStderr(metric.stderr), formatCi(metric.ci), formatScore(metric.min), formatScore(metric.max)]) expect(text).toContain(value);
      expect(html).toMatch(new RegExp(`<rect class="bar"[^>]*data-value="${metric.mean}" data-scorer="${name}"`));
      for (const value of report.epochMeans[name]!) expect(text).toContain(formatScore(value));
      for (const [key, values] of Object.entries(report.groups)) {
        for (const [value, byScorer] of Object.entries(values)) {
          expect(html).toContain(`data-value="${byScorer[name]!.mean}" data-group="${key}" data-group-value="${value}" data-scorer="${name}"`);
          expect(text).toContain(formatScore(byScorer[name]!.mean));
        }
      }
    }
    expect(text).toContain("≥ 0.750");
    const { usage } = report;
    for (const value of [formatCount(usage.modelCalls), formatCount(usage.totalTokens), formatCost(usage.costUsd), formatMs(usage.latencyMs.p50), formatMs(usage.latencyMs.p95), formatMs(usage.latencyMs.mean)]) expect(text).toContain(value);
    for (const sample of report.samples) expect(text).toContain(formatCost(sampleCost(sample)));
  });

  it("draws one bar per scorer, per-group bars, one scatter point per sample and one epoch point per scorer and epoch", () => {
    const scorerChart = /<svg id="chart-scorers"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    expect(scorerChart.match(/<rect class="bar"/g)).toHaveLength(SCORERS.length);
    expect(scorerChart.match(/class="whisker"/g)).toHaveLength(SCORERS.length);
    const groupChart = /<svg id="chart-group-0"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    expect(groupChart.match(/<rect class="bar"/g)).toHaveLength(2 * SCORERS.length);
    expect(html.match(/<circle class="point"/g)).toHaveLength(report.samples.length);
    expect(html.match(/<circle class="epoch-point"/g)).toHaveLength(SCORERS.length * report.settings.epochs);
  });

  it("lists every sample with its scores, clipped output and reasons", () => {
    expect(html.match(/<tr class="sample"/g)).toHaveLength(report.samples.length);
    expect(text).toContain(`e2 exact 0.000: expected "42", got "41"`);
    const long = { ...report, samples: report.samples.map((sample) => ({ ...sample, epochs: sample.epochs.map((epoch) => ({ ...epoch, output: "z".repeat(5_000) })) })) };
    expect(toHtml(long)).not.toContain("z".repeat(601));
  });

  it("renders a report with no samples, groups or gate", () => {
    const { gate: _gate, ...rest } = report;
    const empty = { ...rest, samples: [], groups: {}, epochMeans: {}, metrics: {}, scorers: [] };
    const page = toHtml(empty);
    expect(page).toContain("no gate");
    expect(page).not.toContain('id="chart-cost"');
  });
});
