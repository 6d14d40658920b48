import { describe, expect, it } from "vitest";
import { hostileReport, SCORERS } from "./fixture.test-helper.ts";
import { formatCi, formatCost, formatScore, formatStderr } from "./format.ts";
import { formatTable } from "./table.ts";

describe("formatTable", () => {
  const report = hostileReport();
  const table = formatTable(report);

  it("names the suite, the model and samples × epochs", () => {
    expect(table).toContain("arith <&> suite (variant majority@2)");
    expect(table).toContain("scripted/fake-model (offline)");
    expect(table).toContain("4 × 2 epochs · reducer mean · concurrency 4 · seed 7");
  });

  it("has one row per scorer with mean, stderr, CI, n, threshold and verdict", () => {
    const rows = table.split("\n").filter((line) => line.startsWith("│ exact") || line.startsWith("│ f1"));
    expect(rows).toHaveLength(2);
    for (const [index, name] of SCORERS.entries()) {
      const metric = report.metrics[name]!;
      for (const text of [formatScore(metric.mean), formatStderr(metric.stderr), formatCi(metric.ci), ` ${metric.n} `]) expect(rows[index]).toContain(text);
    }
    expect(rows[0]).toMatch(/≥ 0\.750 │ ✗ FAIL/);
    expect(rows[1]).toMatch(/— │ —/);
    expect(formatTable(hostileReport({ passing: true }))).toMatch(/≥ 0\.500 │ ✓ pass/);
  });

  it("shows groups, usage, latency percentiles and errors", () => {
    const easy = report.groups.difficulty!.easy!;
    expect(table).toContain(`difficulty=easy n=2 exact ${formatScore(easy.exact!.mean)} · f1 ${formatScore(easy.f1!.mean)}`);
    expect(table).toContain(`16 model calls · 960 tokens (800 in / 160 out) · ${formatCost(report.usage.costUsd)}`);
    expect(table).toContain("p50 1.40 s · p95 30.00 s");
    expect(table).toContain("1 of 8 epochs failed");
    expect(table).toContain("s3 epoch 1: timeout after 30 s <boom>");
  });

  it("lists the worst samples by the first scorer, lowest first, with their reasons", () => {
    const worst = table.split("\n").filter((line) => /^ {2}\d\. /.test(line));
    expect(worst.map((line) => line.split(/\s+/)[2])).toEqual(["s3", "s2", "s1", "s4"]);
    expect(worst[1]).toContain(`0.500  expected "42", got "41"`);
  });

  it("ends with the gate verdict and its failures", () => {
    expect(table).toMatch(/Gate {4}✗ FAILED\n {2}- \[threshold\] exact: exact mean 0\.625 < threshold 0\.75\n {2}- \[errors\]: 1 task error <of 8>\n$/);
    expect(formatTable(hostileReport({ passing: true }))).toMatch(/Gate {4}✓ PASSED\n$/);
    const { gate: _gate, ...ungated } = report;
    expect(formatTable(ungated)).toContain("— no gate");
  });

  it("keeps control characters out of the terminal and colours only on request", () => {
    const withControls = { ...report, suite: "evil\u001b[2Jsuite\u0007" };
    expect(formatTable(withControls)).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(table).not.toContain("\u001b[");
    const coloured = formatTable(report, { color: true });
    expect(coloured).toContain("\u001b[31m✗ FAIL\u001b[0m");
    // Colour codes take no width: the box rows stay aligned.
    const widths = coloured.split("\n").filter((line) => line.startsWith("│")).map((line) => [...line.replace(/\u001b\[[0-9;]*m/g, "")].length);
    expect(new Set(widths).size).toBe(1);
  });

  it("clips free text to the requested width", () => {
    const long = { ...report, samples: report.samples.map((sample) => ({ ...sample, epochs: sample.epochs.map((epoch) => ({ ...epoch, scores: { ...epoch.scores, exact: { score: epoch.scores.exact!.score, reason: "x".repeat(500) } } })) })) };
    const lines = formatTable(long, { width: 60 }).split("\n").filter((line) => /^ {2}\d\. /.test(line));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
  });
});
