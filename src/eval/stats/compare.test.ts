import { describe, expect, it } from "vitest";
import { compareRuns } from "./compare.ts";
import type { ComparableRun } from "./compare.ts";
import { EvalStatsError } from "./errors.ts";

const id = (index: number) => `s${String(index).padStart(3, "0")}`;

function run(name: string, scores: number[], scorer = "exact"): ComparableRun {
  return { name, samples: scores.map((score, index) => ({ id: id(index), scores: { [scorer]: score } })) };
}

// 200 pass/fail samples: the baseline passes 120; the candidate fixes 40 of its failures and breaks 5 of its passes.
const baselineScores = Array.from({ length: 200 }, (_, index) => (index < 120 ? 1 : 0));
const candidateScores = baselineScores.map((score, index) => (index < 5 ? 0 : index >= 120 && index < 160 ? 1 : score));
const baseline = run("baseline", baselineScores);
const candidate = run("candidate", candidateScores);

describe("compareRuns", () => {
  it("calls a clear improvement on 200 paired pass/fail samples better, with both tests agreeing", () => {
    const result = compareRuns(baseline, candidate);
    expect(result).toMatchObject({ a: "baseline", b: "candidate", paired: 200, onlyInA: [], onlyInB: [] });
    const [exact] = result.scorers;
    expect(result.scorers).toHaveLength(1);
    expect(exact).toMatchObject({ scorer: "exact", n: 200, unscored: 0, meanA: 0.6, meanB: 0.775, verdict: "better" });
    expect(exact!.diff).toBeCloseTo(0.175, 12);
    expect(exact!.ci[0]).toBeGreaterThan(0.1);
    expect(exact!.ci[1]).toBeLessThan(0.25);
    expect(exact!.pairedBootstrapP).toBeLessThan(0.001);
    expect(exact!.mcnemarP).toBeLessThan(1e-6);
    expect(exact!.signTestP).toBe(exact!.mcnemarP);
    expect(exact!.note).toBeUndefined();
    expect(exact!.improvements).toHaveLength(40);
    expect(exact!.regressions).toEqual([0, 1, 2, 3, 4].map((index) => ({ id: id(index), a: 1, b: 0 })));
    expect(exact!.summary).toMatch(/^candidate is better than baseline on exact: 0\.60 → 0\.78 \(\+0\.17, 95% CI \+0\.1\d…\+0\.2\d\), paired bootstrap p < 0\.001, McNemar p < 0\.001$/);
  });

  it("calls the same comparison in swapped order worse", () => {
    const [exact] = compareRuns(candidate, baseline).scorers;
    expect(exact).toMatchObject({ verdict: "worse", meanA: 0.775, meanB: 0.6 });
    expect(exact!.diff).toBeCloseTo(-0.175, 12);
    expect(exact!.ci[1]).toBeLessThan(0);
    expect(exact!.regressions).toHaveLength(40);
    expect(exact!.improvements).toHaveLength(5);
    expect(exact!.summary).toMatch(/^baseline is worse than candidate on exact: 0\.78 → 0\.60 \(-0\.17, 95% CI -0\.\d\d…-0\.\d\d\)/);
  });

  it("finds no significant difference between identical runs", () => {
    const [exact] = compareRuns(baseline, run("again", baselineScores)).scorers;
    expect(exact).toMatchObject({ verdict: "no significant difference", diff: 0, ci: [0, 0], pairedBootstrapP: 1, signTestP: 1, mcnemarP: 1, regressions: [], improvements: [] });
    expect(exact!.summary).toBe("No significant difference between baseline and again on exact: 0.60 → 0.60 (0.00, 95% CI 0.00…0.00), paired bootstrap p = 1.000, McNemar p = 1.000");
  });

  it("pairs by id, whatever the order, and reports the ids only one run has", () => {
    const shuffled: ComparableRun = { name: "candidate", samples: [...candidate.samples].reverse() };
    shuffled.samples.push({ id: "only-in-b", scores: { exact: 1 } });
    const withExtra: ComparableRun = { name: "baseline", samples: [{ id: "only-in-a-1", scores: { exact: 0 } }, ...baseline.samples, { id: "only-in-a-2", scores: { exact: 0 } }] };
    const result = compareRuns(withExtra, shuffled);
    expect(result.paired).toBe(200);
    expect(result).toMatchObject({ onlyInA: ["only-in-a-1", "only-in-a-2"], onlyInB: ["only-in-b"] });
    expect(result.scorers[0]).toEqual(compareRuns(baseline, candidate).scorers[0]);
  });

  it("calls a disagreement between the bootstrap and McNemar no significant difference, with a note", () => {
    // 5 fixes among 200 ties: the bootstrap finds it significant, the exact test (p = 2/32) does not.
    const [exact] = compareRuns(run("a", Array<number>(200).fill(0)), run("b", Array.from({ length: 200 }, (_, index) => (index < 5 ? 1 : 0)))).scorers;
    expect(exact!.pairedBootstrapP).toBeLessThan(0.05);
    expect(exact!.mcnemarP).toBe(0.0625);
    expect(exact!.verdict).toBe("no significant difference");
    expect(exact!.note).toBe("Only the paired bootstrap (p = 0.014) is significant at 0.05, not McNemar's test (p = 0.063); treat the difference as unproven and collect more samples.");
    expect(exact!.summary).toBe(`No significant difference between a and b on exact: 0.000 → 0.025 (+0.025, 95% CI +0.005…+0.050), paired bootstrap p = 0.014, McNemar p = 0.063. ${exact!.note}`);
  });

  it("uses the bootstrap alone for graded scores, sorts changes by size and follows the level", () => {
    const a = Array.from({ length: 60 }, (_, index) => (index % 4) / 4);
    const b = a.map((score, index) => score + (index === 7 ? -0.5 : index === 3 ? -0.25 : index % 2 === 0 ? 0.2 : 0));
    const [graded] = compareRuns(run("a", a, "f1"), run("b", b, "f1"), { level: 0.01 }).scorers;
    expect(graded).toMatchObject({ scorer: "f1", verdict: "better" });
    expect(graded!.mcnemarP).toBeUndefined();
    expect(graded!.regressions).toEqual([{ id: id(7), a: 0.75, b: 0.25 }, { id: id(3), a: 0.75, b: 0.5 }]);
    expect(graded!.improvements[0]).toEqual({ id: id(0), a: 0, b: 0.2 });
    expect(graded!.summary).toMatch(/99% CI .*, paired bootstrap p [<=] [\d.]+$/);
  });

  it("compares every scorer, or only `metric` with the same numbers, and counts samples a scorer skipped", () => {
    const a: ComparableRun = { name: "a", samples: baseline.samples.map((sample, index) => ({ id: sample.id, scores: { ...sample.scores, ...(index % 10 ? { judge: 0.5 } : {}) } })) };
    const b: ComparableRun = { name: "b", samples: candidate.samples.map((sample) => ({ id: sample.id, scores: { ...sample.scores, judge: 0.5 } })) };
    const all = compareRuns(a, b, { seed: 3 });
    expect(all.scorers.map((scorer) => scorer.scorer)).toEqual(["exact", "judge"]);
    expect(all.scorers[1]).toMatchObject({ n: 180, unscored: 20, verdict: "no significant difference" });
    expect(compareRuns(a, b, { seed: 3, metric: "exact" }).scorers).toEqual([all.scorers[0]]);
    expect(() => compareRuns(a, b, { metric: "bleu" })).toThrow(/No paired sample has a score from "bleu". Scorers present: exact, judge/);
  });

  it("explains duplicate ids, non-finite scores and a confidence level passed as the significance level", () => {
    const twice: ComparableRun = { name: "dup", samples: [...baseline.samples, baseline.samples[0]!] };
    expect(() => compareRuns(twice, candidate)).toThrow(/Run "dup" has two samples with id "s000"/);
    expect(() => compareRuns(run("a", [1, Number.NaN]), run("b", [1, 1]))).toThrow(/Run "a", sample "s001": scorer "exact" gave NaN/);
    expect(() => compareRuns(baseline, candidate, { level: 0.95 })).toThrow(EvalStatsError);
    expect(() => compareRuns(baseline, candidate, { level: 0.95 })).toThrow(/significance level between 0 and 0\.5/);
  });

  it("says so when no ids match", () => {
    const result = compareRuns(run("a", [1, 0]), { name: "b", samples: [{ id: "other", scores: { exact: 1 } }] });
    expect(result).toMatchObject({ paired: 0, onlyInA: [id(0), id(1)], onlyInB: ["other"], scorers: [] });
    expect(() => compareRuns(run("a", [1]), run("b", []), { metric: "exact" })).toThrow(/none \(no sample ids match\)/);
  });
});
