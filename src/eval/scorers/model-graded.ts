import { z } from "zod";
import type { Scorer } from "../types.ts";
import { ScorerError, expectedOf } from "./shared.ts";
import { DATA_NOTE, askJudge, block, judgeLabel, judgesFor } from "./judge.ts";
import type { JudgeOptions } from "./judge.ts";

const RubricVerdict = z.object({ score: z.number().min(0).max(1), reasoning: z.string() });

export interface ModelRubricOptions extends JudgeOptions {
  /** What a good answer does, in plain words; the judge scores the output against it. */
  rubric: string;
  /** Mean judge score at or above which the output passes (reported in `details.passed`; the score stays the mean). */
  passMark?: number;
}

/**
 * A judge model scores the output from 0 to 1 against a rubric, seeing the input, the expected
 * answer (if any) and the output. Several judges: the mean score, every vote in `details.votes`.
 */
export function modelRubric(options: ModelRubricOptions): Scorer {
  const name = options.name ?? "model-rubric";
  const { rubric, passMark } = options;
  if (!rubric.trim()) throw new ScorerError(`Scorer "${name}" needs a rubric: say what a good answer does.`);
  if (passMark !== undefined && !(passMark >= 0 && passMark <= 1)) throw new ScorerError(`Scorer "${name}": passMark must be between 0 and 1 (got ${passMark}).`, { details: { passMark } });
  const system = `You grade an AI system's output against a rubric. Give a score from 0 (fails the rubric entirely) to 1 (meets it fully), and brief reasoning. ${DATA_NOTE}`;
  return {
    name,
    description: passMark === undefined ? "1 = judges say the output fully meets the rubric" : `passes when the judges' mean score is ≥ ${passMark}`,
    async score({ sample, output }, context) {
      const judges = judgesFor(name, options.judges, context);
      const prompt = [`Rubric:\n${rubric}`, block("input", sample.input), block("expected", sample.expected), block("output", output.text)].join("\n\n");
      const votes = await Promise.all(
        judges.map(async (judge, index) => {
          const label = judgeLabel(judge, index);
          const verdict = await askJudge(judge, RubricVerdict, system, prompt, context.signal, label);
          return { judge: label, score: verdict.score, reasoning: verdict.reasoning };
        }),
      );
      const score = votes.reduce((sum, vote) => sum + vote.score, 0) / votes.length;
      const passed = passMark === undefined ? undefined : score >= passMark;
      const verdict = passed === undefined ? "" : passed ? ` — passes (≥ ${passMark})` : ` — fails (< ${passMark})`;
      const reason = votes.length === 1 ? `Judge scored ${score}${verdict}: ${votes[0]!.reasoning}` : `Mean of ${votes.length} judges ${Number(score.toFixed(3))} (${votes.map((vote) => vote.score).join(", ")})${verdict}.`;
      return { score, reason, details: { votes, ...(passed === undefined ? {} : { passed, passMark }) } };
    },
  };
}

const FACT_VERDICTS = ["incorrect", "partially", "correct"] as const;
type FactVerdict = (typeof FACT_VERDICTS)[number];
const FactCheckVerdict = z.object({ verdict: z.enum(FACT_VERDICTS), reasoning: z.string() });
const FACT_SCORE: Record<FactVerdict, number> = { incorrect: 0, partially: 0.5, correct: 1 };

/** The verdict most judges gave; a tie goes to the more conservative verdict (incorrect < partially < correct). */
export function majorityVerdict(verdicts: readonly FactVerdict[]): FactVerdict {
  const count = (verdict: FactVerdict) => verdicts.filter((item) => item === verdict).length;
  // FACT_VERDICTS runs from most to least conservative, so a later verdict must strictly beat an earlier one.
  return FACT_VERDICTS.reduce((best, verdict) => (count(verdict) > count(best) ? verdict : best), FACT_VERDICTS[0]);
}

/**
 * A judge model decides whether the output states the same facts as the expected answer:
 * "correct" (1), "partially" (0.5) or "incorrect" (0). Several judges: majority vote, ties to
 * the more conservative verdict; every vote in `details.votes`.
 */
export function modelFactCheck(options: JudgeOptions = {}): Scorer {
  const name = options.name ?? "model-fact-check";
  const system = `You check whether an AI system's output agrees with the expected answer to a question. Answer "correct" when it states the expected answer's facts without contradicting them, "partially" when it gets some of them right or is right but incomplete, "incorrect" when it contradicts them or misses the point. Wording, style and extra correct detail do not matter. ${DATA_NOTE}`;
  return {
    name,
    description: "1 = judges say the output agrees with the expected answer (0.5 partially)",
    async score({ sample, output }, context) {
      const expected = expectedOf(name, sample);
      const judges = judgesFor(name, options.judges, context);
      const prompt = [block("input", sample.input), block("expected", expected), block("output", output.text)].join("\n\n");
      const votes = await Promise.all(
        judges.map(async (judge, index) => {
          const label = judgeLabel(judge, index);
          const verdict = await askJudge(judge, FactCheckVerdict, system, prompt, context.signal, label);
          return { judge: label, verdict: verdict.verdict, reasoning: verdict.reasoning };
        }),
      );
      const verdict = majorityVerdict(votes.map((vote) => vote.verdict));
      const reason = votes.length === 1 ? `Judge: ${verdict}. ${votes[0]!.reasoning}` : `Judges voted ${votes.map((vote) => vote.verdict).join(", ")}: ${verdict}.`;
      return { score: FACT_SCORE[verdict], reason, details: { verdict, votes } };
    },
  };
}
