import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema, runSuite } from "conclave";
import { runCli } from "../../test/helpers/cli.ts";
import { GSM8K_TEST_ROWS, gsm8kAnswer, gsm8kLines, gsm8kSamples, suite as gsm8k } from "./gsm8k-debate.ts";
import { pythonShuffle } from "./python-random.ts";
import { answeringModel } from "./scripted-solver.ts";
import { strategyQaSamples, suite as strategyqa } from "./strategyqa.ts";
import { svampIds, svampSamples, suite as svamp } from "./svamp.ts";

const cwd = mkdtempSync(join(tmpdir(), "conclave-suites-"));
const options = { config: ConfigSchema.parse({}), cwd, modelInfo: { provider: "test", name: "scripted", offline: false }, variant: "single", limit: 3 };
const dataFile = (name: string) => new URL(`../data/${name}`, import.meta.url);

describe("GSM8K data", () => {
  it("loads Du et al.'s 100 questions (Python seed-0 shuffle), with stable ids and numeric answers", () => {
    const samples = gsm8kSamples();
    expect(samples).toHaveLength(100);
    expect(new Set(samples.map((sample) => sample.id)).size).toBe(100);
    expect(samples.map((sample) => sample.id)).toEqual(gsm8kLines().map((line) => `gsm8k-${line}`));
    expect(gsm8kSamples().map((sample) => sample.id)).toEqual(samples.map((sample) => sample.id));
    expect(samples.every((sample) => Number.isInteger(sample.expected))).toBe(true);
    expect(samples.every((sample) => typeof sample.input === "string" && sample.input.length > 20)).toBe(true);
  });

  it("is Python's random.seed(0); random.shuffle(...) of the 1,319 test lines, first 100, and another seed picks others", () => {
    const lines = gsm8kLines();
    expect(lines).toEqual(gsm8kLines(0));
    expect(lines).toEqual(pythonShuffle(Array.from({ length: GSM8K_TEST_ROWS }, (_, index) => index + 1), 0).slice(0, 100));
    // CPython 3.11: random.seed(0); x = list(range(1, 1320)); random.shuffle(x); print(x[:100])
    expect(lines).toEqual([
      1102, 121, 475, 992, 193, 1021, 351, 481, 884, 1063, 800, 1258, 1071, 1235, 591, 447, 1303, 266, 176, 555, 1162, 626, 606, 1111, 205, 790, 198, 1127, 24, 1138, 1084, 1053, 953, 868, 713, 951, 621,
      544, 935, 1227, 400, 1049, 681, 744, 1237, 545, 260, 958, 605, 466, 1012, 429, 77, 468, 412, 218, 858, 1051, 1036, 295, 1168, 612, 52, 786, 446, 477, 1116, 232, 875, 551, 737, 1289, 1131, 421, 1275,
      488, 109, 1264, 516, 782, 764, 273, 248, 1171, 686, 1290, 644, 1002, 100, 424, 250, 709, 946, 471, 553, 546, 320, 69, 522, 459,
    ]);
    expect(new Set(lines).size).toBe(100);
    expect(lines.every((line) => line >= 1 && line <= GSM8K_TEST_ROWS)).toBe(true);
    expect(gsm8kLines(1)).not.toEqual(lines);
    const stored = readFileSync(dataFile("gsm8k-test.jsonl"), "utf8").trim().split("\n").map((row) => (JSON.parse(row) as { line: number }).line);
    expect(stored).toEqual(lines);
  });

  it("reads the expected number after '####'", () => {
    expect(gsm8kAnswer("16 - 3 - 4 = 9\n9 * 2 = 18\n#### 18")).toBe(18);
    expect(gsm8kAnswer("…\n#### 1,600")).toBe(1600);
    expect(gsm8kAnswer("…\n#### -3")).toBe(-3);
    expect(() => gsm8kAnswer("no marker")).toThrow(/#### N/);
  });
});

describe("SVAMP data", () => {
  it("loads a fixed 100 of the 1,000 (seed-0 shuffle) with SVAMP's ids, body + question, numeric answers and types", () => {
    const samples = svampSamples();
    expect(samples).toHaveLength(100);
    expect(samples.map((sample) => sample.id)).toEqual(svampIds());
    expect(svampIds()).toEqual(svampIds(0));
    const rows = JSON.parse(readFileSync(dataFile("svamp.json"), "utf8")) as Array<{ Body: string; Question: string; Answer: number; Type: string }>;
    expect(samples[0]!.input).toBe(`${rows[0]!.Body.trim()} ${rows[0]!.Question.trim()}`);
    expect(samples.map((sample) => sample.expected)).toEqual(rows.map((row) => row.Answer));
    expect(new Set(samples.map((sample) => sample.metadata?.type))).toEqual(new Set(["Addition", "Subtraction", "Multiplication", "Common-Division"]));
  });
});

describe("StrategyQA data", () => {
  it("loads all 229 dev questions with their qids and yes/no answers", () => {
    const samples = strategyQaSamples();
    expect(samples).toHaveLength(229);
    expect(new Set(samples.map((sample) => sample.id)).size).toBe(229);
    expect(samples[0]).toMatchObject({ id: "e0044a7b4d146d611e73", expected: "no", metadata: { answer: "no" } });
    expect(samples.filter((sample) => sample.expected === "yes")).toHaveLength(107);
    expect(samples.filter((sample) => sample.expected === "no")).toHaveLength(122);
  });
});

describe("scores for known answers", () => {
  it("gsm8k-debate: numeric() marks right numbers 1 and a wrong one 0", async () => {
    const [a, b, c] = gsm8kSamples();
    const model = answeringModel({ [a!.input]: [`So she makes ${a!.expected} dollars.`], [b!.input]: [`Answer: ${b!.expected}`], [c!.input]: [`Answer: ${c!.expected! + 1}`] });
    const report = await runSuite(gsm8k, { ...options, model });
    expect(report.samples.map((sample) => sample.scores.numeric)).toEqual([1, 1, 0]);
    expect(report.samples.map((sample) => sample.expected)).toEqual([a!.expected, b!.expected, c!.expected]);
  });

  it("svamp: numeric() against SVAMP's answer", async () => {
    const [a, b, c] = svampSamples();
    const model = answeringModel({ [a!.input]: [`Answer: ${a!.expected}`], [b!.input]: ["Answer: 100000"], [c!.input]: [`Answer: ${c!.expected}.0`] });
    const report = await runSuite(svamp, { ...options, model });
    expect(report.samples.map((sample) => sample.scores.numeric)).toEqual([1, 0, 1]);
  });

  it("strategyqa: exact match of the normalised yes/no, whatever numbers the reasoning holds", async () => {
    const [a, b, c] = strategyQaSamples();
    const flip = (answer: unknown) => (answer === "yes" ? "no" : "yes");
    const model = answeringModel({
      [a!.input]: [`Albany, GA has about 75,000 people and Albany, NY about 97,000.\nAnswer: ${a!.expected}`],
      [b!.input]: [`**Final answer:** ${String(b!.expected).toUpperCase()}`],
      [c!.input]: [`Answer: ${flip(c!.expected)}`],
    });
    const report = await runSuite(strategyqa, { ...options, model });
    expect(report.samples.map((sample) => sample.epochs[0]!.output)).toEqual([a!.expected, b!.expected, flip(c!.expected)]);
    expect(report.samples.map((sample) => sample.scores.exact)).toEqual([1, 1, 0]);
  });
});

describe("with only the offline model", () => {
  it.each(["gsm8k-debate", "svamp", "strategyqa"])("conclave eval run %s says the suite needs a real model and exits 0", async (name) => {
    const result = await runCli(["eval", "run", name]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`suite ${name} needs a real model and only the offline model is configured; skipped.`);
  });

  it("conclave eval list marks the three suites as needing a model, with their variants", async () => {
    const result = await runCli(["eval", "list"]);
    expect(result.code, result.stderr).toBe(0);
    for (const name of ["gsm8k-debate", "svamp", "strategyqa"]) {
      expect(result.stdout).toMatch(new RegExp(`${name}\\s+\\(needs a model\\).*\\[variants: single, majority, self-consistency, debate\\]`));
    }
  });
});
