import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigSchema, OfflineChatModel, ScorerError, citedClaims, extractNumbers, runSuite } from "conclave";
import type { Sample, TaskOutput } from "conclave";
import { describe, expect, it } from "vitest";
import { corpusSources } from "./corpus-sources.ts";
import { PLANT_KINDS, VERIFICATION_DATA, VerificationRow, draftOf, flagCounts, flagF1, flagPrecision, flagRecall, suite, verificationSamples } from "./verification.ts";
import type { ClaimCheck, VerificationExpected } from "./verification.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const rows = readFileSync(VERIFICATION_DATA, "utf8").split("\n").filter((line) => line.trim()).map((line) => VerificationRow.parse(JSON.parse(line)));
const samples = verificationSamples();

describe("the verification dataset", () => {
  it("has 32 drafts with stable ids, 8 per kind of planted claim", () => {
    expect(samples.map((sample) => sample.id)).toEqual(Array.from({ length: 32 }, (_, index) => `ver-${String(index + 1).padStart(3, "0")}`));
    for (const kind of PLANT_KINDS) expect(samples.filter((sample) => sample.metadata?.plant === kind), kind).toHaveLength(8);
    expect(samples.reduce((sum, sample) => sum + sample.expected!.unsupported.length, 0)).toBe(40);
    expect(samples.reduce((sum, sample) => sum + sample.expected!.supported.length, 0)).toBe(90);
  });

  it("splits each draft back into exactly its labelled claims and citations", () => {
    rows.forEach((row, index) => {
      const sample = samples[index]!;
      expect(sample.input).toBe(draftOf(row));
      expect(citedClaims(sample.input)).toEqual(row.claims.map((claim) => ({ claim: `${claim.text}.`, sources: claim.sources })));
      expect(new Set([...sample.expected!.unsupported, ...sample.expected!.supported])).toEqual(new Set(row.claims.map((claim) => `${claim.text}.`)));
    });
  });

  it("cites only documents and passages of the bundled corpus", () => {
    const sources = corpusSources();
    for (const row of rows) for (const claim of row.claims) for (const id of claim.sources) expect(sources.has(id), `${row.id}: ${id}`).toBe(true);
    const bad = { ...rows[0]!, claims: rows[0]!.claims.map((claim, index) => (index === 0 ? { ...claim, sources: ["apollo-11#99"] } : claim)) };
    expect(VerificationRow.safeParse(bad).success).toBe(false);
  });

  it("labels as supported only claims whose numbers their cited passage states", () => {
    const sources = corpusSources();
    const plain = (value: string) => value.replace(/,/g, "");
    for (const row of rows) {
      for (const claim of row.claims.filter((candidate) => !candidate.unsupported)) {
        const stated = new Set(claim.sources.flatMap((id) => extractNumbers(sources.get(id)!)).map(plain));
        for (const value of extractNumbers(claim.text).map(plain)) expect(stated.has(value), `${row.id}: ${value} in "${claim.text}"`).toBe(true);
      }
    }
  });

  it("plants a number or date in every wrong-number and wrong-date claim, in wording its passage does not have", () => {
    const sources = corpusSources();
    for (const row of rows.filter((candidate) => candidate.plant === "wrong-number" || candidate.plant === "wrong-date")) {
      for (const claim of row.claims.filter((candidate) => candidate.unsupported)) {
        expect(claim.text, row.id).toMatch(/\d|\b(?:ten|twelve|fourteen)\b/i);
        expect(claim.sources.some((id) => sources.get(id)!.includes(claim.text)), row.id).toBe(false);
      }
    }
  });
});

describe("the flag scorers", () => {
  const sample: Sample<string, VerificationExpected> = { id: "hand-made", input: "", expected: { unsupported: ["A is wrong.", "B is wrong."], supported: ["C holds.", "D holds."] } };
  const checked = (flagged: string[]): TaskOutput => ({
    output: { checks: ["A is wrong.", "B is wrong.", "C holds.", "D holds."].map((claim): ClaimCheck => ({ claim, sources: ["x"], verdict: flagged.includes(claim) ? "unsupported" : "supported", problem: "" })) },
    text: "",
    usage: { modelCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
    latencyMs: 0,
  });
  const scores = (flagged: string[]) => [flagPrecision, flagRecall, flagF1].map((scorer) => (scorer.score({ sample, output: checked(flagged) }, { seed: 0 }) as { score: number }).score);

  it("score precision, recall and F1 of the flagged claims against the planted ones", () => {
    expect(scores(["A is wrong.", "B is wrong."])).toEqual([1, 1, 1]);
    expect(scores(["A is wrong.", "C holds."])).toEqual([0.5, 0.5, 0.5]);
    const [precision, recall, f1] = scores(["A is wrong.", "B is wrong.", "C holds.", "D holds."]);
    expect([precision, recall]).toEqual([0.5, 1]);
    expect(f1).toBeCloseTo(2 / 3);
    expect(scores(["C holds."])).toEqual([0, 0, 0]);
    // Flagging nothing raises no false alarm but misses everything.
    expect(scores([])).toEqual([1, 0, 0]);
  });

  it("match claims ignoring case, spacing and the final full stop, and explain the score", () => {
    const output = checked([]);
    (output.output as { checks: ClaimCheck[] }).checks[0] = { claim: "a  IS wrong", sources: [], verdict: "contradicted", problem: "" };
    expect(flagCounts(sample, output, "flag-recall")).toMatchObject({ truePositives: 1, falsePositives: 0, falseNegatives: 1 });
    const score = flagRecall.score({ sample, output }, { seed: 0 }) as { score: number; reason: string; details: unknown };
    expect(score).toEqual({ score: 0.5, reason: 'flag-recall 0.5: 1 of 2 planted claims flagged; 0 supported claims flagged; missed: "b is wrong".', details: { truePositives: 1, falsePositives: 0, falseNegatives: 1 } });
  });

  it("refuse an output without per-claim verdicts", () => {
    expect(() => flagF1.score({ sample, output: { ...checked([]), output: "All claims are supported." } }, { seed: 0 })).toThrow(ScorerError);
  });
});

describe("a small verification run (offline model)", () => {
  const options = { config: ConfigSchema.parse({}), cwd: root, model: new OfflineChatModel({}), modelInfo: { provider: "offline", name: "conclave-offline", offline: true }, limit: 5 };

  it.each(["default", "check-support"])("checks every claim of 5 drafts with no task errors (%s)", async (variant) => {
    const report = await runSuite(suite, { ...options, variant });
    expect(report.samples.map((sample) => sample.id)).toEqual(["ver-001", "ver-002", "ver-003", "ver-004", "ver-005"]);
    expect(report.usage.errors).toBe(0);
    if (variant === "default") expect(report.usage.modelCalls).toBeGreaterThan(0);
    else expect(report.usage.modelCalls).toBe(0);
    for (const sample of report.samples) {
      expect(Object.keys(sample.scores)).toEqual(["flag-f1", "flag-precision", "flag-recall"]);
      for (const name of Object.keys(sample.scores)) expect(sample.epochs[0]!.scores[name]!.reason).not.toMatch(/failed/);
    }
  });
});
