import { defineSuite, fromJson, numeric, shuffle } from "conclave";
import { z } from "zod";
import { equalComputeVariants, numberAnswer } from "./equal-compute.ts";

/**
 * SVAMP (Patel et al. 2021): one-step arithmetic word problems with varied structure. A fixed 100
 * of the 1,000, the first after a seed-0 shuffle (Conclave's own shuffle; GSM8K alone follows Du et al.'s Python shuffle); the problem is the body and the
 * question joined by a space (SVAMP bodies often end without a full stop). Same four variants at
 * 6 model calls each (single: 1).
 */
export const SVAMP_SEED = 0;
export const SVAMP_ROWS = 1_000;
export const SVAMP_COUNT = 100;

/** The SVAMP ids the suite uses, in order: `chal-N` for the first `count` of 1..1000 after a `seed` shuffle. */
export function svampIds(seed = SVAMP_SEED, count = SVAMP_COUNT): string[] {
  return shuffle(Array.from({ length: SVAMP_ROWS }, (_, index) => index + 1), seed).slice(0, count).map((number) => `chal-${number}`);
}

/** A row exactly as SVAMP.json has it. */
export const SvampRow = z.object({ ID: z.string().regex(/^chal-\d+$/), Body: z.string().min(1), Question: z.string().min(1), Equation: z.string(), Answer: z.number(), Type: z.string() });

/**
 * The 100 problems (evals/data/svamp.json holds just these, in shuffled order); ids are SVAMP's
 * own, grouped by `type` (one SVAMP row spells it "Common-Divison"; it joins "Common-Division").
 */
export function svampSamples() {
  return fromJson(new URL("../data/svamp.json", import.meta.url), SvampRow, (row) => ({ id: row.ID, input: `${row.Body.trim()} ${row.Question.trim()}`, expected: row.Answer, metadata: { type: row.Type.replace("Common-Divison", "Common-Division") } }));
}

export const suite = defineSuite({
  name: "svamp",
  description: "SVAMP, 100 arithmetic word problems (seed-0 shuffle): single vs majority vs self-consistency vs 3×2 debate at 6 model calls",
  requires: "model",
  dataset: svampSamples,
  variants: equalComputeVariants(numberAnswer, { calls: 6, agents: 3 }),
  scorers: [numeric()],
});
