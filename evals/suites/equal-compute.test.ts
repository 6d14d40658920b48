import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema, run, runSuite } from "conclave";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { TaskContext } from "conclave";
import { debate, equalComputeVariants, majority, normalizeYesNo, numberAnswer, selfConsistency, single } from "./equal-compute.ts";
import { gsm8kSamples, suite } from "./gsm8k-debate.ts";
import { answeringModel } from "./scripted-solver.ts";

const cwd = mkdtempSync(join(tmpdir(), "conclave-equal-compute-"));
const modelInfo = { provider: "test", name: "scripted", offline: false };
const [first, second, third] = gsm8kSamples().slice(0, 3).map((sample) => ({ question: sample.input, right: sample.expected! }));
const samples = [first!, second!, third!];

function runVariant(variant: string, model: BaseChatModel) {
  return runSuite(suite, { config: ConfigSchema.parse({}), cwd, model, modelInfo, variant, limit: 3 });
}

/** Each question gets `answers(right)` as its replies, in turn. */
function scripted(answers: (right: number) => string[]) {
  return answeringModel(Object.fromEntries(samples.map(({ question, right }) => [question, answers(right)])));
}

/** A context like the eval runner's: `run` with the scripted model, counting the calls it makes. */
function countingContext(model: BaseChatModel) {
  const counted = { modelCalls: 0 };
  const context: TaskContext = {
    model,
    modelInfo,
    run: (async (graph, input, options) => {
      const result = await run(graph, input, { ...options, model, modelInfo });
      counted.modelCalls += result.usage.modelCalls;
      return result;
    }) as TaskContext["run"],
  };
  return { context, counted };
}

describe("equal compute: every variant makes the model calls it claims", () => {
  const cases: Array<[string, number, (right: number) => string[]]> = [
    ["single", 1, (right) => [`Reasoning. Answer: ${right}`]],
    ["majority", 6, (right) => [...Array(4).fill(`Answer: ${right}`), `Answer: ${right + 1}`, `Answer: ${right + 2}`]],
    ["self-consistency", 6, (right) => [...Array(5).fill(`Step 1 … Answer: ${right}`), "Answer: 0"]],
    // Round 1 disagrees (2 to 1), so the panel debates a second round: 3 solvers × 2 rounds.
    ["debate", 6, (right) => [`Answer: ${right}`, `Answer: ${right}`, `Answer: ${right + 10}`, ...Array(3).fill(`Checked: Answer: ${right}`)]],
  ];

  it.each(cases)("%s makes %i call(s) per question and scores the right answers", async (variant, calls, answers) => {
    const model = scripted(answers);
    const report = await runVariant(variant, model);
    expect(report.variant).toBe(variant);
    expect(report.samples.map((sample) => sample.epochs[0]!.usage.modelCalls)).toEqual([calls, calls, calls]);
    expect(report.usage.modelCalls).toBe(3 * calls);
    expect(model.callCount).toBe(3 * calls);
    expect(report.usage.errors).toBe(0);
    expect(report.samples.map((sample) => sample.epochs[0]!.output)).toEqual(samples.map(({ right }) => String(right)));
    expect(report.metrics.numeric!.mean).toBe(1);
  });

  it("gives majority, self-consistency and debate the same N and single 1, as the suite's variants say", () => {
    expect(Object.keys(suite.variants!)).toEqual(["single", "majority", "self-consistency", "debate"]);
    expect(suite.variants!.debate!.description).toContain("3 solvers × 2 rounds");
    expect(suite.variants!.majority!.description).toContain("6 model calls");
    expect(suite.variants!["self-consistency"]!.description).toContain("6 model calls");
    expect(suite.variants!.single!.description).toContain("1 model call");
    expect(() => equalComputeVariants(numberAnswer, { calls: 7, agents: 3 })).toThrow(/divisible by the number of solvers/);
    expect(() => majority(numberAnswer, { calls: 0 })).toThrow(/at least 1/);
  });
});

describe("majority vote", () => {
  it("picks the most common normalised answer, right or wrong, and scores it", async () => {
    // First question: the right answer 3 times against 2 + 1; second: a wrong answer 4 times; third: "1,200"-style forms agree.
    const model = answeringModel({
      [first!.question]: [`Answer: ${first!.right + 1}`, `Answer: ${first!.right}`, `Answer: ${first!.right + 2}`, `So it is ${first!.right}.`, `Answer: ${first!.right + 1}`, `Final answer: ${first!.right}`],
      [second!.question]: [...Array(4).fill("Answer: 99999"), ...Array(2).fill(`Answer: ${second!.right}`)],
      [third!.question]: [`Answer: ${third!.right.toLocaleString("en-US")}`, `Answer: $${third!.right}.00`, ...Array(4).fill("I cannot tell.")],
    });
    const report = await runVariant("majority", model);
    expect(report.samples.map((sample) => sample.epochs[0]!.output)).toEqual([String(first!.right), "99999", String(third!.right)]);
    expect(report.samples.map((sample) => sample.scores.numeric)).toEqual([1, 0, 1]);
    expect(report.metrics.numeric!.mean).toBeCloseTo(2 / 3);
  });

  it("returns the votes and every answer it voted on", async () => {
    const model = answeringModel({ [first!.question]: ["Answer: 5", "Answer: 7", "Answer: 5"] });
    const { context, counted } = countingContext(model);
    const result = await majority(numberAnswer, { calls: 3 })({ id: "q", input: first!.question }, context);
    expect(result.text).toBe("5");
    expect(result.output).toMatchObject({ strategy: "majority", answer: "5", votes: { 5: 2, 7: 1 }, modelCalls: 3 });
    expect([...result.output.answers].sort()).toEqual(["Answer: 5", "Answer: 5", "Answer: 7"]);
    expect(counted.modelCalls).toBe(3);
  });
});

describe("what each strategy sends", () => {
  it("asks single and majority for reasoning and a final 'Answer: N', and self-consistency to think step by step", async () => {
    const question = { id: "q", input: first!.question };
    const plain = answeringModel({ [first!.question]: ["Answer: 1", "Answer: 1"] });
    await single(numberAnswer)(question, countingContext(plain).context);
    await majority(numberAnswer, { calls: 1 })(question, countingContext(plain).context);
    for (const request of plain.requests) {
      expect(request.map((message) => message.role)).toEqual(["system", "user"]);
      expect(request[0]!.content).toBe(numberAnswer.instructions);
      expect(request[0]!.content).not.toMatch(/step by step/);
      expect(request[1]!.content).toBe(first!.question);
    }
    const sampled = answeringModel({ [first!.question]: ["Answer: 1", "Answer: 1", "Answer: 1"] });
    const { context, counted } = countingContext(sampled);
    await selfConsistency(numberAnswer, { samples: 3 })(question, context);
    expect(counted.modelCalls).toBe(3);
    expect(sampled.requests.map((request) => request[0]!.content)).toEqual(Array(3).fill(numberAnswer.chainOfThought));
    expect(numberAnswer.chainOfThought).toMatch(/Think step by step.*final answer/);
  });
});

describe("debate at equal compute", () => {
  it("stops at 3 calls when the panel agrees in round 1: at most N calls, by its own accounting and the run's", async () => {
    const model = answeringModel({ [first!.question]: Array(3).fill(`Answer: ${first!.right}`) });
    const { context, counted } = countingContext(model);
    const result = await debate(numberAnswer, { agents: 3, rounds: 2 })({ id: "q", input: first!.question }, context);
    expect(result.output).toMatchObject({ strategy: "debate", answer: String(first!.right), modelCalls: 3, rounds: 1, termination: "consensus" });
    expect(counted.modelCalls).toBe(3);
  });

  it("debates a second round when round 1 disagrees; solvers read the others' answers; the last round's majority wins", async () => {
    const right = first!.right;
    const model = answeringModel({ [first!.question]: [`Answer: ${right}`, `Answer: ${right}`, "Answer: 7", `Answer: ${right}`, "Answer: 7", "Answer: 8"] });
    const { context, counted } = countingContext(model);
    const result = await debate(numberAnswer, { agents: 3, rounds: 2 })({ id: "q", input: first!.question }, context);
    expect(result.output.modelCalls).toBe(6);
    expect(counted.modelCalls).toBe(6);
    expect(result.output).toMatchObject({ rounds: 2, termination: "max-rounds" });
    expect(result.output.votes).toEqual({ [right]: 1, 7: 1, 8: 1 });
    // A three-way tie in the last round goes to the first answer seen.
    expect(Object.keys(result.output.votes)).toContain(result.text);
    const roundTwo = model.requests.slice(3).map((request) => request.at(-1)!.content);
    for (const prompt of roundTwo) {
      expect(prompt).toContain(first!.question);
      expect(prompt).toContain("Other agents answered in the previous round:");
    }
    expect(model.requests.every((request) => request[0]!.content === numberAnswer.instructions)).toBe(true);
  });
});

describe("normalizeYesNo", () => {
  it("reads the marked answer, else an opening yes or no, and never a number", () => {
    expect(normalizeYesNo("Albany, GA has about 75,000 people; Albany, NY about 100,000.\nAnswer: no")).toBe("no");
    expect(normalizeYesNo("**Final answer:** Yes")).toBe("yes");
    expect(normalizeYesNo("Yes. Aristotle died in 322 BC.")).toBe("yes");
    expect(normalizeYesNo("The answer is no.")).toBe("no");
    expect(normalizeYesNo("Answer: True")).toBe("yes");
    expect(normalizeYesNo("At first yes, but on reflection the answer is: no")).toBe("no");
    expect(normalizeYesNo("It was built in 1889.")).toBe("");
  });
});
