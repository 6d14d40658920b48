import { z } from "zod";
import { seededRandom } from "../stats/random.ts";
import type { Sample, Scorer } from "../types.ts";
import { DATA_NOTE, askJudge, block, judgeLabel, judgesFor } from "./judge.ts";
import type { JudgeOptions } from "./judge.ts";

/** The stats module's seeded PRNG (mulberry32), so the order shown is reproducible per seed. */
export const mulberry32 = seededRandom;

const PairwiseVerdict = z.object({ winner: z.enum(["A", "B", "tie"]), reasoning: z.string() });
const RESULT_SCORE = { win: 1, tie: 0.5, loss: 0 } as const;

export interface PairwiseJudgeOptions extends JudgeOptions {
  /** The answer to compare against for a sample (a reference system's answer, last release's output). */
  baseline: (sample: Sample) => string;
  /** What "better" means. Default: more correct, complete and helpful for the input. */
  criteria?: string;
}

/**
 * A judge model compares the output with a baseline answer: 1 when the output wins, 0.5 for a
 * tie, 0 when the baseline wins; several judges give the mean. Which answer is shown first is
 * drawn per judge from `context.seed` (judges favour a position), and the verdict is mapped back;
 * `details.votes` record the order each judge saw.
 */
export function pairwiseJudge(options: PairwiseJudgeOptions): Scorer {
  const name = options.name ?? "pairwise";
  const criteria = options.criteria ?? "Which answer is better for the input: more correct, more complete and more helpful?";
  const system = `You compare two answers to the same input. ${criteria} Reply "A", "B" or "tie", with brief reasoning. The order the answers appear in means nothing. ${DATA_NOTE}`;
  return {
    name,
    description: "1 = judges prefer the output to the baseline (0.5 tie)",
    async score({ sample, output }, context) {
      const judges = judgesFor(name, options.judges, context);
      const baseline = options.baseline(sample);
      const random = mulberry32(context.seed);
      const votes = await Promise.all(
        judges.map(async (judge, index) => {
          const label = judgeLabel(judge, index);
          const outputFirst = random() < 0.5;
          const [a, b] = outputFirst ? [output.text, baseline] : [baseline, output.text];
          const prompt = [block("input", sample.input), block("answer_a", a), block("answer_b", b)].join("\n\n");
          const verdict = await askJudge(judge, PairwiseVerdict, system, prompt, context.signal, label);
          const result = verdict.winner === "tie" ? "tie" : (verdict.winner === "A") === outputFirst ? "win" : "loss";
          return { judge: label, shown: outputFirst ? "output-first" : "baseline-first", winner: verdict.winner, result, reasoning: verdict.reasoning } as const;
        }),
      );
      const score = votes.reduce((sum, vote) => sum + RESULT_SCORE[vote.result], 0) / votes.length;
      const describe = (vote: (typeof votes)[number]) => `${vote.result} (${vote.shown}, judge chose ${vote.winner})`;
      const reason = votes.length === 1 ? `Against the baseline: ${describe(votes[0]!)}. ${votes[0]!.reasoning}` : `Against the baseline, ${votes.length} judges: ${votes.map(describe).join("; ")}; mean ${Number(score.toFixed(3))}.`;
      return { score, reason, details: { votes } };
    },
  };
}
