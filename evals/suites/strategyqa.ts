import { defineSuite, exact, fromJson } from "conclave";
import { z } from "zod";
import { equalComputeVariants, normalizeYesNo, yesNoAnswer } from "./equal-compute.ts";

/**
 * StrategyQA (Geva et al. 2021): yes/no questions whose reasoning steps are implicit ("Did
 * Aristotle use a laptop?"). All 229 questions of the authors' dev split, in file order. Same
 * four variants at 6 calls; the score is an exact match of the normalised yes/no answer, with a
 * breakdown by the expected answer so a bias towards one of them shows.
 */
export const StrategyQaRow = z.object({ qid: z.string().min(1), term: z.string(), description: z.string(), question: z.string().min(1), answer: z.boolean(), facts: z.array(z.string()), decomposition: z.array(z.string()) });

/** The 229 questions; ids are StrategyQA's `qid`, expected "yes" or "no". */
export function strategyQaSamples() {
  return fromJson(new URL("../data/strategyqa-dev.json", import.meta.url), StrategyQaRow, (row) => {
    const expected = row.answer ? "yes" : "no";
    return { id: row.qid, input: row.question, expected, metadata: { answer: expected } };
  });
}

export const suite = defineSuite({
  name: "strategyqa",
  description: "StrategyQA dev, 229 yes/no questions: single vs majority vote vs self-consistency vs 3×2 debate at 6 model calls",
  requires: "model",
  dataset: strategyQaSamples,
  variants: equalComputeVariants(yesNoAnswer, { calls: 6, agents: 3 }),
  scorers: [exact({ pick: (output) => normalizeYesNo(output.text) })],
});
