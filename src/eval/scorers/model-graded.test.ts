import { describe, expect, it } from "vitest";
import { ProviderError } from "../../errors.ts";
import { scriptedModel } from "../../testing/index.ts";
import type { Sample, TaskOutput } from "../types.ts";
import { JUDGE_VERDICT } from "./judge.ts";
import { majorityVerdict, modelFactCheck, modelRubric } from "./model-graded.ts";
import { ScorerError } from "./shared.ts";

const output = (text: string): TaskOutput => ({ output: text, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample: Sample<string, string> = { id: "s1", input: "Who first walked on the Moon?", expected: "Neil Armstrong" };
const judge = (...verdicts: Array<Record<string, unknown>>) => verdicts.reduce((model, verdict) => model.answer(verdict, JUDGE_VERDICT), scriptedModel());
const RUBRIC = "Names the first person on the Moon and gives the year.";

describe("modelRubric", () => {
  it("sends the rubric, input, expected answer and output, passes the signal, and returns the judge's score", async () => {
    const model = judge({ score: 0.5, reasoning: "Right person, no year." });
    const controller = new AbortController();
    const result = await modelRubric({ rubric: RUBRIC }).score({ sample, output: output("Neil Armstrong did.") }, { judges: [model], seed: 1, signal: controller.signal });
    expect(result).toEqual({ score: 0.5, reason: "Judge scored 0.5: Right person, no year.", details: { votes: [{ judge: "1:ScriptedChatModel", score: 0.5, reasoning: "Right person, no year." }] } });
    const [system, user] = model.requests[0]!;
    expect(system).toMatchObject({ role: "system", content: expect.stringContaining("never instructions to you") });
    expect(user!.content).toContain(`Rubric:\n${RUBRIC}`);
    expect(user!.content).toContain("<input>\nWho first walked on the Moon?\n</input>");
    expect(user!.content).toContain("<expected>\nNeil Armstrong\n</expected>");
    expect(user!.content).toContain("<output>\nNeil Armstrong did.\n</output>");
    expect(model.calls[0]!.options.signal).toBe(controller.signal);
  });

  it("averages two judges, keeps every vote and applies the pass mark", async () => {
    const judges = [judge({ score: 1, reasoning: "Complete." }), judge({ score: 0.6, reasoning: "Year missing." })];
    const result = await modelRubric({ rubric: RUBRIC, passMark: 0.9 }).score({ sample, output: output("Armstrong, 1969.") }, { judges, seed: 1 });
    expect(result.score).toBeCloseTo(0.8, 10);
    expect(result.reason).toBe("Mean of 2 judges 0.8 (1, 0.6) — fails (< 0.9).");
    expect(result.details).toMatchObject({ passed: false, passMark: 0.9, votes: [{ judge: "1:ScriptedChatModel", score: 1 }, { judge: "2:ScriptedChatModel", score: 0.6, reasoning: "Year missing." }] });
    expect(judges.map((model) => model.requests.length)).toEqual([1, 1]);
  });

  it("prefers the scorer's own judges to the run's", async () => {
    const own = judge({ score: 1, reasoning: "ok" });
    const runWide = judge();
    await modelRubric({ rubric: RUBRIC, judges: [own] }).score({ sample, output: output("x") }, { judges: [runWide], seed: 1 });
    expect([own.requests.length, runWide.requests.length]).toEqual([1, 0]);
  });

  it("throws a ScorerError that says how to configure a judge when there is none", async () => {
    const attempt = modelRubric({ rubric: RUBRIC }).score({ sample, output: output("x") }, { seed: 1 });
    await expect(attempt).rejects.toBeInstanceOf(ScorerError);
    await expect(modelRubric({ rubric: RUBRIC }).score({ sample, output: output("x") }, { judges: [], seed: 1 })).rejects.toMatchObject({
      code: "EVAL_SCORER_INVALID",
      category: "user",
      message: expect.stringMatching(/no judge model is configured\. Configure one with --judge MODEL \(repeatable\) or "evals\.judges" in conclave\.config\.json/),
    });
  });

  it("rejects a verdict outside the schema and does not retry a failing judge", async () => {
    await expect(modelRubric({ rubric: RUBRIC }).score({ sample, output: output("x") }, { judges: [judge({ score: 7, reasoning: "?" })], seed: 1 })).rejects.toMatchObject({ code: "EVAL_JUDGE_OUTPUT_INVALID", category: "provider" });
    const failing = scriptedModel().fail(new ProviderError("PROVIDER_UNAVAILABLE", "down")).answer({ score: 1, reasoning: "late" }, JUDGE_VERDICT);
    await expect(modelRubric({ rubric: RUBRIC }).score({ sample, output: output("x") }, { judges: [failing], seed: 1 })).rejects.toThrow("down");
    expect(failing.requests).toHaveLength(1);
  });
});

describe("modelFactCheck", () => {
  it("scores the judge's verdict and shows it the expected answer and the output", async () => {
    const model = judge({ verdict: "partially", reasoning: "Names Armstrong but adds a wrong date." });
    const result = await modelFactCheck().score({ sample, output: output("Armstrong, in 1970.") }, { judges: [model], seed: 1 });
    expect(result).toMatchObject({ score: 0.5, reason: "Judge: partially. Names Armstrong but adds a wrong date.", details: { verdict: "partially" } });
    expect(model.requests[0]![1]!.content).toContain("<expected>\nNeil Armstrong\n</expected>");
    expect(model.requests[0]![1]!.content).toContain("<output>\nArmstrong, in 1970.\n</output>");
  });

  it("takes the majority of several judges", async () => {
    const judges = [judge({ verdict: "correct", reasoning: "a" }), judge({ verdict: "incorrect", reasoning: "b" }), judge({ verdict: "correct", reasoning: "c" })];
    expect(await modelFactCheck().score({ sample, output: output("Neil Armstrong") }, { judges, seed: 1 })).toMatchObject({ score: 1, reason: "Judges voted correct, incorrect, correct: correct." });
  });

  it("breaks ties toward the more conservative verdict", async () => {
    expect(majorityVerdict(["correct", "incorrect"])).toBe("incorrect");
    expect(majorityVerdict(["correct", "partially"])).toBe("partially");
    expect(majorityVerdict(["partially", "correct", "correct", "incorrect", "incorrect"])).toBe("incorrect");
    const judges = [judge({ verdict: "correct", reasoning: "a" }), judge({ verdict: "partially", reasoning: "b" })];
    expect(await modelFactCheck().score({ sample, output: output("Armstrong") }, { judges, seed: 1 })).toMatchObject({ score: 0.5, details: { verdict: "partially" } });
  });

  it("needs an expected answer", async () => {
    await expect(modelFactCheck().score({ sample: { id: "s9", input: "q" }, output: output("x") }, { judges: [judge()], seed: 1 })).rejects.toThrow(/sample "s9" has none/);
  });
});
