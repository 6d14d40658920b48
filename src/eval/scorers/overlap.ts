import { expectedOf } from "./shared.ts";
import type { PureScorer } from "./shared.ts";
import type { TextScorerOptions } from "./match.ts";

/** SQuAD's answer normalisation: lower case, no punctuation, no articles (a, an, the), single spaces; as tokens. */
export function squadTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, "")
    .replace(/\b(?:a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter((token) => token.length > 0);
}

/** SQuAD token F1 of a prediction against one reference, with its precision and recall. */
export function tokenOverlap(prediction: string, reference: string): { f1: number; precision: number; recall: number } {
  const predicted = squadTokens(prediction);
  const wanted = squadTokens(reference);
  // As in the SQuAD script: when either side has no tokens, F1 is 1 if both are empty, else 0.
  if (predicted.length === 0 || wanted.length === 0) {
    const same = predicted.length === wanted.length ? 1 : 0;
    return { f1: same, precision: same, recall: same };
  }
  const counts = new Map<string, number>();
  for (const token of wanted) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      common += 1;
      counts.set(token, left - 1);
    }
  }
  if (common === 0) return { f1: 0, precision: 0, recall: 0 };
  const precision = common / predicted.length;
  const recall = common / wanted.length;
  return { f1: (2 * precision * recall) / (precision + recall), precision, recall };
}

/**
 * SQuAD-style token F1 between the answer and the expected answer. With several references
 * (an array), the best-matching one counts, as in SQuAD. Details hold precision and recall.
 */
export function tokenF1(options: TextScorerOptions = {}): PureScorer<unknown, string | string[]> {
  const name = options.name ?? "token-f1";
  return {
    name,
    description: "1 = the answer has exactly the expected answer's words (SQuAD token F1, ignoring case, punctuation and articles)",
    score({ sample, output }) {
      const expected = expectedOf(name, sample);
      const references = Array.isArray(expected) ? expected : [expected];
      const text = options.pick ? options.pick(output) : output.text;
      const scored = references.map((reference) => ({ reference, ...tokenOverlap(text, reference) }));
      const best = scored.reduce((a, b) => (b.f1 > a.f1 ? b : a), scored[0] ?? { reference: "", f1: 0, precision: 0, recall: 0 });
      const round = (value: number) => Number(value.toFixed(3));
      const against = references.length > 1 ? ` against "${best.reference}"` : "";
      return {
        score: best.f1,
        reason: `Token F1 ${round(best.f1)}${against}: precision ${round(best.precision)}, recall ${round(best.recall)}.`,
        details: { precision: best.precision, recall: best.recall, ...(references.length > 1 ? { reference: best.reference } : {}) },
      };
    },
  };
}
