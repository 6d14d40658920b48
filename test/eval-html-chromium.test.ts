import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { EvalReportSchema } from "../src/eval/report.ts";
import { toHtml } from "../src/eval/reports/index.ts";

// The HTML report in a real browser: the Debian `chromium` package, never a downloaded one. CI installs it;
// without it this test fails (it does not skip) and says which package to install.
const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const ATTACK = "<script>alert(1)</script>";

const usage = (costUsd: number) => ({ modelCalls: 1, inputTokens: 50, outputTokens: 10, totalTokens: 60, costUsd });
const summary = (mean: number, stderr: number, ci: [number, number], min: number, max: number) => ({ n: 3, mean, stderr, ci, min, max });

// Written out by hand: 3 samples × 2 epochs, scorers `exact` (threshold 0.6) and `judge`.
const report = EvalReportSchema.parse({
  version: 1,
  suite: "capitals",
  createdAt: "2025-07-04T09:30:00.000Z",
  durationMs: 4200,
  model: { provider: "openai", name: "gpt-test", offline: false },
  settings: { epochs: 2, reducer: "mean", concurrency: 2, seed: 1 },
  scorers: [{ name: "exact" }, { name: "judge", description: "model-graded" }],
  samples: [
    {
      id: "france", input: "Capital of France?", metadata: { region: "europe" }, scores: { exact: 1, judge: 0.9 },
      epochs: [1, 2].map((epoch) => ({ epoch, output: "Paris", scores: { exact: { score: 1, reason: "match" }, judge: { score: 0.9, reason: "correct" } }, usage: usage(0.001), latencyMs: 400 })),
    },
    {
      id: "peru", input: "Capital of Peru?", metadata: { region: "americas" }, scores: { exact: 0.5, judge: 0.6 },
      epochs: [
        { epoch: 1, output: `Lima ${ATTACK}`, scores: { exact: { score: 1, reason: "match" }, judge: { score: 0.7, reason: "odd markup" } }, usage: usage(0.002), latencyMs: 600 },
        { epoch: 2, output: "Cusco", scores: { exact: { score: 0, reason: "expected Lima" }, judge: { score: 0.5, reason: "wrong city" } }, usage: usage(0.002), latencyMs: 700 },
      ],
    },
    {
      id: "chile", input: "Capital of Chile?", metadata: { region: "americas" }, scores: { exact: 0, judge: 0.3 },
      epochs: [1, 2].map((epoch) => ({ epoch, output: "Valparaíso", scores: { exact: { score: 0, reason: "expected Santiago" }, judge: { score: 0.3, reason: "wrong" } }, usage: usage(0.003), latencyMs: 900 })),
    },
  ],
  metrics: { exact: summary(0.5, 0.289, [0, 1], 0, 1), judge: summary(0.6, 0.173, [0.3, 0.9], 0.3, 0.9) },
  groups: {
    region: {
      europe: { exact: { ...summary(1, 0, [1, 1], 1, 1), n: 1 }, judge: { ...summary(0.9, 0, [0.9, 0.9], 0.9, 0.9), n: 1 } },
      americas: { exact: { ...summary(0.25, 0.25, [0, 0.5], 0, 0.5), n: 2 }, judge: { ...summary(0.45, 0.15, [0.3, 0.6], 0.3, 0.6), n: 2 } },
    },
  },
  epochMeans: { exact: [0.667, 0.333], judge: [0.633, 0.567] },
  usage: { ...usage(0.012), modelCalls: 6, inputTokens: 300, outputTokens: 60, totalTokens: 360, latencyMs: { mean: 667, p50: 650, p95: 900 }, errors: 0 },
  thresholds: { exact: 0.6 },
  gate: { passed: false, failures: [{ kind: "threshold", scorer: "exact", message: "exact mean 0.500 < 0.600" }] },
});

describe("the HTML eval report in headless Chromium", () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  // The browser is launched inside the test, so a missing Chromium fails this test rather than skipping it.
  it("renders the numbers, one bar per scorer, hostile output as text, and a screenshot", async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package with apt-get install -y --no-install-recommends chromium`);
    const folder = mkdtempSync(join(tmpdir(), "conclave-html-"));
    const page = join(folder, "report.html");
    writeFileSync(page, toHtml(report));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const tab = await browser.newPage();
    const dialogs: string[] = [];
    tab.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const requests: string[] = [];
    tab.on("request", (request) => requests.push(request.url()));
    await tab.goto(pathToFileURL(page).href);

    expect(await tab.title()).toBe("capitals — eval report");
    expect(await tab.locator("#gate").innerText()).toBe("FAILED");

    // The per-scorer means, as the page formats them (three decimals), in the chart labels and the metric table.
    const labels = await tab.locator("#chart-scorers text.value").allTextContents();
    expect(labels).toEqual(["0.500", "0.600"]);
    const rows = await Promise.all((await tab.locator("#scorers tr.metric").all()).map((row) => row.locator("td").allInnerTexts()));
    expect(rows.map((cells) => cells.slice(0, 5).map((cell) => cell.trim()))).toEqual([
      ["exact", "", "0.500", "±0.289", "[0.000, 1.000]"],
      ["judge", "model-graded", "0.600", "±0.173", "[0.300, 0.900]"],
    ]);

    // One bar per scorer, each as tall as its mean on the chart's 0–1 axis.
    const bars = tab.locator("#chart-scorers rect.bar");
    expect(await bars.count()).toBe(report.scorers.length);
    expect(await bars.evaluateAll((rects) => rects.map((rect) => rect.getAttribute("data-scorer")))).toEqual(["exact", "judge"]);
    const heights = await Promise.all((await bars.all()).map(async (bar) => (await bar.boundingBox())?.height ?? 0));
    expect(heights[1]! / heights[0]!).toBeCloseTo(0.6 / 0.5, 1);
    expect(await tab.locator("#chart-group-0 rect.bar").count()).toBe(2 * report.scorers.length);
    expect(await tab.locator("#chart-cost circle.point").count()).toBe(report.samples.length);
    expect(await tab.locator("#chart-epochs text.value").allTextContents()).toEqual(["0.667", "0.333", "0.633", "0.567"]);

    // Model output holding a script tag is shown as text; nothing runs and nothing is fetched.
    const peru = tab.locator('tr.sample[data-sample="peru"] pre.output');
    expect(await peru.innerText()).toContain(`Lima ${ATTACK}`);
    expect(await tab.locator("script").count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);
    // Control: the dialog listener does see an alert when one really fires.
    await tab.evaluate("void setTimeout(() => alert('control'), 0)");
    await expect.poll(() => dialogs).toEqual(["control"]);

    const shot = process.env.CONCLAVE_HTML_SCREENSHOT ?? join(folder, "report.png");
    await tab.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(1_000);
    expect(readFileSync(shot).subarray(1, 4).toString("latin1")).toBe("PNG");
  });
});
