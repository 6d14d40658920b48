import { describe, expect, it } from "vitest";
import { scriptedModel } from "../../testing/index.ts";
import type { Sample, TaskOutput } from "../types.ts";
import { JUDGE_VERDICT } from "./judge.ts";
import { mulberry32, pairwiseJudge } from "./pairwise.ts";

const output = (text: string): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample: Sample<string, string> = { id: "s1", input: "Who first walked on the Moon?", expected: "Neil Armstrong" };
const judge = (winner: "A" | "B" | "tie") => scriptedModel().answer({ winner, reasoning: `${winner} is better.` }, JUDGE_VERDICT);
const scorer = pairwiseJudge({ baseline: () => "BASELINE: Buzz Aldrin." });
const OUTPUT = "OUTPUT: Neil Armstrong, in 1969.";
const shownFirst = (model: ReturnType<typeof judge>) => (model.requests[0]![1]!.content.indexOf(OUTPUT) < model.requests[0]![1]!.content.indexOf("BASELINE") ? "output" : "baseline");

describe("pairwiseJudge", () => {
  it("is reproducible per seed and shows the output first for some seeds, the baseline for others", () => {
    const first = Array.from({ length: 20 }, (_, seed) => mulberry32(seed)() < 0.5);
    expect(first).toEqual(Array.from({ length: 20 }, (_, seed) => mulberry32(seed)() < 0.5));
    expect(first).toContain(true);
    expect(first).toContain(false);
  });

  it("counts 'A' as a win when the output was shown first (seed 0)", async () => {
    const model = judge("A");
    const result = await scorer.score({ sample, output: output(OUTPUT) }, { judges: [model], seed: 0 });
    expect(shownFirst(model)).toBe("output");
    expect(model.requests[0]![1]!.content).toContain(`<answer_a>\n${OUTPUT}\n</answer_a>`);
    expect(result).toMatchObject({ score: 1, reason: "Against the baseline: win (output-first, judge chose A). A is better.", details: { votes: [{ shown: "output-first", winner: "A", result: "win" }] } });
  });

  it("un-swaps the verdict when the baseline was shown first (seed 1): 'A' is then a loss", async () => {
    const model = judge("A");
    const result = await scorer.score({ sample, output: output(OUTPUT) }, { judges: [model], seed: 1 });
    expect(shownFirst(model)).toBe("baseline");
    expect(model.requests[0]![1]!.content).toContain(`<answer_b>\n${OUTPUT}\n</answer_b>`);
    expect(result).toMatchObject({ score: 0, details: { votes: [{ shown: "baseline-first", winner: "A", result: "loss" }] } });
  });

  it("draws the order per judge, so two judges both choosing 'B' split a win and a loss", async () => {
    // Seed 1 draws 0.627 then 0.003: the first judge sees the baseline first, the second the output.
    const judges = [judge("B"), judge("B")];
    const result = await scorer.score({ sample, output: output(OUTPUT) }, { judges, seed: 1 });
    expect(judges.map(shownFirst)).toEqual(["baseline", "output"]);
    expect(result.score).toBe(0.5);
    expect(result.details).toMatchObject({ votes: [{ judge: "1:ScriptedChatModel", shown: "baseline-first", result: "win" }, { judge: "2:ScriptedChatModel", shown: "output-first", result: "loss" }] });
    expect(result.reason).toBe("Against the baseline, 2 judges: win (baseline-first, judge chose B); loss (output-first, judge chose B); mean 0.5.");
  });

  it("scores a tie 0.5 and passes the signal", async () => {
    const model = judge("tie");
    const controller = new AbortController();
    expect(await scorer.score({ sample, output: output(OUTPUT) }, { judges: [model], seed: 3, signal: controller.signal })).toMatchObject({ score: 0.5, details: { votes: [{ result: "tie" }] } });
    expect(model.calls[0]!.options.signal).toBe(controller.signal);
  });

  it("needs a judge", async () => {
    await expect(scorer.score({ sample, output: output(OUTPUT) }, { seed: 1 })).rejects.toMatchObject({ code: "EVAL_SCORER_INVALID", message: expect.stringContaining("--judge") });
  });
});
