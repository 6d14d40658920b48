import { numbers, sentences, terms } from "../../models/offline/text.ts";
import { clip, contextOf } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

/** A retrieved passage, as `TaskOutput.context` holds it. */
export type Passage = { id: string; text: string };

const CITATION = /\[[\w][\w:./#-]{0,120}\]/g;
// Signs are dropped: "Apollo-11" states 11, not -11.
const plain = (value: string) => value.replace(/,/g, "").replace(/^-/, "").replace(/\.$/, "");

/** How well one passage supports a claim: the share of the claim's content terms it holds, and the claim's numbers it lacks. */
export function lexicalSupport(claim: string, passage: string): { coverage: number; missingNumbers: string[] } {
  const claimTerms = [...new Set(terms(claim))];
  const have = new Set(terms(passage));
  const coverage = claimTerms.length ? claimTerms.filter((term) => have.has(term)).length / claimTerms.length : 0;
  const stated = new Set(numbers(passage).map(plain));
  return { coverage, missingNumbers: numbers(claim).map(plain).filter((value) => !stated.has(value)) };
}

/**
 * The default support check: some passage holds at least `threshold` (0.7) of the claim's
 * content words (stop words dropped, lightly stemmed) and states every number in the claim.
 */
export function supportedLexically(claim: string, context: readonly Passage[], threshold = 0.7): boolean {
  return context.some((passage) => {
    const check = lexicalSupport(claim, passage.text);
    return check.coverage >= threshold && check.missingNumbers.length === 0;
  });
}

/**
 * The answer's claims: its sentences without citation markers, skipping what asserts nothing —
 * questions, short exclamations ("Sure!", "Great question!") and sentences of stop words only.
 */
export function claimsOf(answer: string): string[] {
  return sentences(answer.replace(CITATION, " "))
    .map((sentence) => sentence.replace(/\s+([.,;:!?])/g, "$1").trim())
    .filter((sentence) => !sentence.endsWith("?") && !(sentence.endsWith("!") && sentence.split(/\s+/).length <= 3))
    .filter((sentence) => terms(sentence).length > 0 || numbers(sentence).length > 0);
}

export interface FaithfulnessOptions {
  /** Whether the retrieved context supports one claim. Default `supportedLexically` with `threshold`. */
  support?: (claim: string, context: readonly Passage[]) => boolean;
  /** Share of a claim's content words the default check needs in one passage. Default 0.7. */
  threshold?: number;
  name?: string;
}

/**
 * Ragas-style faithfulness: the share of the answer's claims (sentences) that the retrieved
 * `output.context` supports. An answer with no checkable claim scores 1. Details list the
 * unsupported claims. Throws a `ScorerError` when the task reports no context at all.
 */
export function faithfulness(options: FaithfulnessOptions = {}): PureScorer {
  const name = options.name ?? "faithfulness";
  const threshold = options.threshold ?? 0.7;
  const support = options.support ?? ((claim: string, context: readonly Passage[]) => supportedLexically(claim, context, threshold));
  return {
    name,
    description: "1 = every claim in the answer is supported by the retrieved context",
    score({ sample, output }) {
      const context = contextOf(name, sample, output);
      const claims = claimsOf(output.text);
      if (claims.length === 0) return { score: 1, reason: "The answer makes no claims to check.", details: { claims: 0, unsupported: [] } };
      const unsupported = claims.filter((claim) => !support(claim, context));
      const supported = claims.length - unsupported.length;
      const reason = unsupported.length === 0
        ? `All ${claims.length} claim${claims.length === 1 ? " is" : "s are"} supported by the context.`
        : `${supported} of ${claims.length} claims are supported by the context; unsupported: ${unsupported.map((claim) => `"${clip(claim, 60)}"`).join(", ")}.`;
      return { score: supported / claims.length, reason, details: { claims: claims.length, supported, unsupported } };
    },
  };
}
