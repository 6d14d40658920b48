import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigSchema } from "../config/schema.ts";
import { OfflineChatModel } from "../models/offline/chat-model.ts";
import { defineAgent } from "../agent/define-agent.ts";
import { defineTool } from "../tool/define-tool.ts";
import { scriptedModel } from "../testing/index.ts";
import { defineSuite } from "./define-suite.ts";
import { generated, withIds } from "./dataset.ts";
import { EvalReportSchema } from "./report.ts";
import { runSuite } from "./runner.ts";
import { exact, modelRubric, numeric } from "./scorers/index.ts";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { HumanMessage } from "@langchain/core/messages";
import type { Sample } from "./types.ts";

const config = ConfigSchema.parse({});
const offline = { model: new OfflineChatModel({}), modelInfo: { provider: "offline", name: "conclave-offline", offline: true } };
const base = { config, cwd: process.cwd(), ...offline };

const squares: Sample<number, number>[] = withIds([1, 2, 3, 4, 5, 6].map((n) => ({ input: n, expected: n * n, metadata: { parity: n % 2 ? "odd" : "even" } })));

describe("runSuite", () => {
  it("scores every sample with every scorer, summarises with a bootstrap interval and groups by metadata", async () => {
    // Wrong on 5 and 6: a known mean of 4/6.
    const suite = defineSuite({ name: "squares", dataset: squares, task: (sample) => String(sample.input <= 4 ? sample.input * sample.input : 0), scorers: [numeric(), exact({ name: "exact" })], thresholds: { numeric: 0.5 } });
    const report = await runSuite(suite, base);
    expect(EvalReportSchema.parse(report)).toBeTruthy();
    expect(report.samples.map((sample) => sample.scores.numeric)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(report.metrics.numeric!.mean).toBeCloseTo(4 / 6);
    expect(report.metrics.numeric!.stderr).toBeCloseTo(Math.sqrt((4 / 6) * (2 / 6) * (6 / 5)) / Math.sqrt(6));
    expect(report.metrics.numeric!.ci[0]).toBeLessThan(report.metrics.numeric!.mean);
    expect(report.groups.parity!.odd!.numeric!.mean).toBeCloseTo(2 / 3);
    expect(report.groups.parity!.even!.numeric!.mean).toBeCloseTo(2 / 3);
    expect(report.gate).toEqual({ passed: true, failures: [] });
    // The same seed gives the same interval.
    expect((await runSuite(suite, base)).metrics.numeric!.ci).toEqual(report.metrics.numeric!.ci);
  });

  it("runs epochs and reduces them (mean, pass@k), and keeps per-epoch means", async () => {
    let calls = 0;
    // Right on every other attempt.
    const task = (sample: Sample<number, number>) => String(calls++ % 2 === 0 ? sample.expected : -1);
    const mean = await runSuite(defineSuite({ name: "flaky", dataset: squares.slice(0, 2), task, scorers: [numeric()], epochs: 4 }), { ...base, concurrency: 1 });
    expect(mean.samples.map((sample) => sample.epochs.length)).toEqual([4, 4]);
    expect(mean.metrics.numeric!.mean).toBe(0.5);
    expect(mean.epochMeans.numeric).toEqual([1, 0, 1, 0]);
    calls = 0;
    const passAt2 = await runSuite(defineSuite({ name: "flaky-pass", dataset: squares.slice(0, 2), task, scorers: [numeric()], epochs: 4, reducer: { passAtK: 2 } }), { ...base, concurrency: 1 });
    // 2 right of 4: pass@2 = 1 - C(2,2)/C(4,2) = 5/6.
    expect(passAt2.metrics.numeric!.mean).toBeCloseTo(5 / 6);
  });

  it("keeps going when a task throws: the sample scores 0 with the error, and the gate fails on errors", async () => {
    const suite = defineSuite({ name: "boom", dataset: squares.slice(0, 3), task: (sample) => {
      if (sample.input === 2) throw new Error("tool exploded");
      return String(sample.expected);
    }, scorers: [numeric()] });
    const report = await runSuite(suite, base);
    expect(report.samples.map((sample) => sample.scores.numeric)).toEqual([1, 0, 1]);
    expect(report.samples[1]!.epochs[0]!.error).toBe("tool exploded");
    expect(report.samples[1]!.epochs[0]!.scores.numeric!.reason).toContain("the task failed: tool exploded");
    expect(report.usage.errors).toBe(1);
    expect(report.gate?.passed).toBe(false);
    expect(report.gate?.failures[0]).toMatchObject({ kind: "errors", message: "1 of 3 samples failed with an error (allowed: 0%)" });
  });

  it("fails the gate on a threshold, and on a significant regression against a baseline", async () => {
    const right = defineSuite({ name: "cmp", dataset: generated({ count: 60, seed: 1, make: (random) => ({ input: Math.floor(random() * 100), expected: 0 }) }), task: () => "0", scorers: [numeric()], thresholds: { numeric: 0.9 } });
    const baseline = await runSuite(right, base);
    const worse = defineSuite({ ...right, task: (sample: Sample<number, number>) => (sample.input % 3 === 0 ? "0" : "1") });
    const report = await runSuite(worse, { ...base, baseline });
    expect(report.gate?.passed).toBe(false);
    expect(report.gate?.failures.map((failure) => failure.kind).sort()).toEqual(["regression", "threshold"]);
    expect(report.gate?.failures.find((failure) => failure.kind === "regression")?.message).toContain("regression against the baseline");
  });

  it("runs a graph-shaped agent task with its usage counted, and replays its cassettes with identical scores", async () => {
    const double = defineTool({ name: "double", description: "Doubles a number.", schema: z.object({ n: z.number() }), run: ({ n }) => String(n * 2) });
    const agent = defineAgent({ name: "doubler", instructions: "Double the number with the tool.", tools: [double], maxSteps: 3 });
    const model = scriptedModel();
    for (const n of [3, 4]) model.callTools([{ name: "double", args: { n }, id: `c${n}` }]).reply(`It is ${n * 2}.`);
    const dataset = withIds([3, 4].map((n) => ({ input: `Double ${n}`, expected: n * 2 })));
    const suite = defineSuite({ name: "doubling", dataset, task: agent as never, scorers: [numeric()] });
    const dir = mkdtempSync(join(tmpdir(), "conclave-eval-cassettes-"));
    const recorded = await runSuite(suite, { ...base, model, modelInfo: { provider: "test", name: "scripted", offline: false }, concurrency: 1, cassettes: { mode: "record", dir } });
    expect(recorded.samples.map((sample) => sample.scores.numeric)).toEqual([1, 1]);
    expect(recorded.usage.modelCalls).toBe(4);
    // No script left: a replay that called the model would fail.
    const replayed = await runSuite(suite, { ...base, model: scriptedModel(), modelInfo: { provider: "test", name: "scripted", offline: false }, concurrency: 1, cassettes: { mode: "replay", dir } });
    expect(replayed.samples.map((sample) => [sample.id, sample.scores, sample.epochs[0]!.output])).toEqual(recorded.samples.map((sample) => [sample.id, sample.scores, sample.epochs[0]!.output]));
    expect(replayed.settings.replayed).toBe(true);
  });

  it("stops starting samples once the eval's budget is spent, and says so in the gate", async () => {
    const priced = defineSuite({ name: "pricey", dataset: squares, task: async (sample, context) => {
      void context;
      return String(sample.expected);
    }, scorers: [numeric()] });
    const report = await runSuite(priced, { ...base, maxCostUsd: 0 });
    expect(report.samples).toHaveLength(0);
    expect(report.gate?.failures[0]?.message).toContain("6 of 6 samples did not run");
  });

  it("counts a scorer that cannot score as an error the gate sees, not a silent 0", async () => {
    const suite = defineSuite({ name: "judged", dataset: squares.slice(0, 2), task: (sample) => String(sample.expected), scorers: [numeric(), modelRubric({ rubric: "Is it right?" })] });
    const report = await runSuite(suite, base);
    expect(report.usage.errors).toBe(2);
    expect(report.samples[0]!.epochs[0]!.error).toContain("no judge model is configured");
    expect(report.gate?.passed).toBe(false);
  });

  it("fails only the samples a replay has no recording for, and keeps ids that differ in odd characters apart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conclave-eval-missing-"));
    const odd = withIds(["a/b", "a?b", "a_b"].map((id, index) => ({ id, input: index, expected: index })));
    const suite = defineSuite({ name: "odd-ids", dataset: odd, task: (sample, context) => context.run(createAgentGraph(defineAgent({ name: "echo", instructions: "Say the number.", tools: [], maxSteps: 1 })), { messages: [new HumanMessage(String(sample.input))] } as never).then(() => String(sample.expected)), scorers: [numeric()] });
    await runSuite(suite, { ...base, cassettes: { mode: "record", dir } });
    expect(readdirSync(join(dir, "default")).length).toBe(3);
    const replayed = await runSuite(suite, { ...base, cassettes: { mode: "replay", dir } });
    expect(replayed.usage.errors).toBe(0);
    const fewer = await runSuite(defineSuite({ ...suite, dataset: [...odd, { id: "new", input: 9, expected: 9 }] }), { ...base, cassettes: { mode: "replay", dir } });
    expect(fewer.samples.map((sample) => Boolean(sample.epochs[0]!.error))).toEqual([false, false, false, true]);
  });

  it("refuses pass@k with more k than epochs before running anything", async () => {
    let ran = 0;
    const suite = defineSuite({ name: "pass", dataset: squares, task: () => String(ran++), scorers: [numeric()], reducer: { passAtK: 3 } });
    await expect(runSuite(suite, { ...base, epochs: 2 })).rejects.toThrow(/pass@3 .* runs 2 epoch/);
    expect(ran).toBe(0);
  });
});
