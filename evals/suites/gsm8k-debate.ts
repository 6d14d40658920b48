import { defineSuite, fromJsonl, numeric } from "conclave";
import { z } from "zod";
import { equalComputeVariants, numberAnswer } from "./equal-compute.ts";
import { pythonShuffle } from "./python-random.ts";

/**
 * GSM8K (Cobbe et al. 2021) as Du et al. (2023) ran it for multiagent debate: their 100 test
 * questions. Their gsm/gen_gsm.py does `random.seed(0)`, reads the 1,319 rows of test.jsonl,
 * `random.shuffle(questions)` and takes `questions[:100]`; `pythonShuffle` reproduces CPython's
 * seed and shuffle, so these are the same questions in the same order.
 * Single answer, majority vote, self-consistency and a 3 × 2 debate at 6 model calls each
 * (single: 1). The score is `numeric()` against the number after "####" in the reference answer.
 */
export const GSM8K_SEED = 0;
export const GSM8K_TEST_ROWS = 1_319;
export const GSM8K_COUNT = 100;

/**
 * The 1-based lines of GSM8K's test.jsonl the suite uses, in order: the first `count` after
 * Python's `random.seed(seed); random.shuffle(rows)` of the 1,319 rows (Du et al.'s selection).
 */
export function gsm8kLines(seed = GSM8K_SEED, count = GSM8K_COUNT): number[] {
  return pythonShuffle(Array.from({ length: GSM8K_TEST_ROWS }, (_, index) => index + 1), seed).slice(0, count);
}

/** The number a GSM8K reference answer ends with ("…\n#### 1,600" → 1600). */
export function gsm8kAnswer(answer: string): number {
  const written = /####\s*(-?[\d,]*\.?\d+)\s*$/.exec(answer.trim())?.[1];
  const value = Number(written?.replace(/,/g, ""));
  if (written === undefined || !Number.isFinite(value)) throw new Error(`A GSM8K answer must end with "#### N"; got "…${answer.slice(-40)}".`);
  return value;
}

/** A stored row: the question and reference answer as published, and the line of test.jsonl it came from. */
const Row = z.object({ line: z.number().int().min(1).max(GSM8K_TEST_ROWS), question: z.string().min(1), answer: z.string().includes("####") });

/** The 100 questions (evals/data/gsm8k-test.jsonl holds just these, in Du et al.'s order); ids are `gsm8k-<line>`. */
export function gsm8kSamples() {
  return fromJsonl(new URL("../data/gsm8k-test.jsonl", import.meta.url), Row, (row) => ({ id: `gsm8k-${row.line}`, input: row.question, expected: gsm8kAnswer(row.answer) }));
}

export const suite = defineSuite({
  name: "gsm8k-debate",
  description: "GSM8K, Du et al.'s 100 test questions (Python seed-0 shuffle): single vs majority vs self-consistency vs 3×2 debate at 6 model calls",
  requires: "model",
  dataset: gsm8kSamples,
  variants: equalComputeVariants(numberAnswer, { calls: 6, agents: 3 }),
  scorers: [numeric()],
});
