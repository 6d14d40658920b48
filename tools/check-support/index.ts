import { contentTerms, defineTool, extractNumbers, splitSentences } from "conclave";
import { z } from "zod";
import type { Passage } from "../retrieve/corpus.ts";
import type { PassageIndex } from "../retrieve/passage-index.ts";

/** How a claim stands against the corpus. */
export type SupportVerdict = "supported" | "unsupported" | "contradicted";

export interface SupportCheck {
  verdict: SupportVerdict;
  /** Share of the claim's content terms found in the best passage, in [0, 1]. */
  score: number;
  /** The passage the verdict rests on. */
  passage?: Passage;
  /** Source ids the claim cited. */
  cited: string[];
  problem: string;
  suggestion: string;
}

const SUPPORTED = 0.6;
const CITATION = /\[([\w][\w:./#-]{0,120})\]/g;

/** Share of the claim's content terms that occur in the passage. */
function coverage(claimTerms: readonly string[], passage: Passage): number {
  if (claimTerms.length === 0) return 0;
  const have = new Set(contentTerms(`${passage.title} ${passage.text}`));
  return claimTerms.filter((term) => have.has(term)).length / claimTerms.length;
}

const NEGATION = /\b(?:not|no|never|neither|nor|without|cannot|none)\b|n't\b/i;

function negated(text: string): boolean {
  return NEGATION.test(text);
}

/** The passage sentence that shares the most of the claim's terms. */
function closestSentence(claimTerms: readonly string[], passage: Passage): string {
  let best = { sentence: passage.text, score: -1 };
  for (const sentence of splitSentences(passage.text)) {
    const have = new Set(contentTerms(sentence));
    const score = claimTerms.filter((term) => have.has(term)).length;
    if (score > best.score) best = { sentence, score };
  }
  return best.sentence;
}

/** The claim's numbers that the passage does not state. */
function missingNumbers(claim: string, passage: Passage): string[] {
  const stated = new Set(extractNumbers(passage.text).map((value) => value.replace(/,/g, "")));
  return extractNumbers(claim).map((value) => value.replace(/,/g, "")).filter((value) => !stated.has(value));
}

/**
 * Checks one claim against the corpus: the passages it cites first, then the best search hits.
 * Supported: a cited passage covers most of the claim's terms and states its numbers.
 * Contradicted: the cited passage is about the claim but gives other numbers.
 * Unsupported: no citation, a citation that does not hold, or nothing in the corpus about it.
 */
export async function checkSupport(index: PassageIndex, claim: string): Promise<SupportCheck> {
  const cited = [...new Set([...claim.matchAll(CITATION)].map((match) => match[1]!))];
  const text = claim.replace(CITATION, " ").replace(/\s+/g, " ").trim();
  const claimTerms = [...new Set(contentTerms(text))];
  const scored = (passages: Passage[]) => passages.map((passage) => ({ passage, score: coverage(claimTerms, passage), missing: missingNumbers(text, passage) })).sort((a, b) => b.score - a.score);
  const citedPassages = scored(cited.flatMap((id) => index.lookup(id)));
  const found = scored(await index.search(text, 5));
  const bestCited = citedPassages[0];
  const bestFound = found[0];
  const unknown = cited.filter((id) => index.lookup(id).length === 0);

  if (bestCited && bestCited.score >= SUPPORTED && bestCited.missing.length === 0) {
    // Same words, opposite sense: "Fleming did not discover penicillin" against "Fleming discovered penicillin".
    if (negated(text) !== negated(closestSentence(claimTerms, bestCited.passage))) {
      return { verdict: "contradicted", score: bestCited.score, passage: bestCited.passage, cited, problem: `The claim ${negated(text) ? "denies" : "asserts"} what [${bestCited.passage.id}] ${negated(text) ? "states" : "denies"}.`, suggestion: `State it as [${bestCited.passage.id}] does, or remove the claim.` };
    }
    return { verdict: "supported", score: bestCited.score, passage: bestCited.passage, cited, problem: "", suggestion: "" };
  }
  if (bestCited && bestCited.score >= SUPPORTED && bestCited.missing.length > 0 && extractNumbers(bestCited.passage.text).length > 0) {
    return { verdict: "contradicted", score: bestCited.score, passage: bestCited.passage, cited, problem: `The cited passage [${bestCited.passage.id}] does not state ${bestCited.missing.join(", ")}.`, suggestion: `Use the figures [${bestCited.passage.id}] gives, or remove the claim.` };
  }
  const better = bestFound && bestFound.score >= SUPPORTED && bestFound.missing.length === 0 ? bestFound : undefined;
  const problem = unknown.length
    ? `It cites ${unknown.map((id) => `[${id}]`).join(", ")}, which does not exist in the corpus.`
    : cited.length === 0 ? "It cites no source." : `The cited passage${cited.length > 1 ? "s do" : " does"} not support it (best support score ${(bestCited?.score ?? 0).toFixed(2)}).`;
  const suggestion = better ? `Cite [${better.passage.id}], which supports it.` : "Remove the claim or support it with a finding.";
  return { verdict: "unsupported", score: better?.score ?? bestCited?.score ?? 0, ...(better ? { passage: better.passage } : bestCited ? { passage: bestCited.passage } : {}), cited, problem, suggestion };
}

/**
 * The `check_support` tool for verifiers: judges whether the corpus supports a claim (with its
 * `[source-id]` citations) and says why, quoting the passage the verdict rests on.
 */
export function createCheckSupportTool(options: { index: () => Promise<PassageIndex> }) {
  return defineTool({
    name: "check_support",
    description: "Checks whether the corpus supports a claim, using the [source id] citations in the claim and a search for evidence. Returns a verdict (supported, unsupported or contradicted), a support score and the evidence passage.",
    schema: z.object({ claim: z.string().min(1).max(2_000).describe("One claim, with its [source-id] citations as written in the draft") }),
    run: async ({ claim }) => {
      const check = await checkSupport(await options.index(), claim);
      const lines = [`Verdict: ${check.verdict}. Support score ${check.score.toFixed(2)}.`];
      if (check.problem) lines.push(`Problem: ${check.problem}`);
      if (check.suggestion) lines.push(`Suggestion: ${check.suggestion}`);
      if (check.passage) lines.push("", `[${check.passage.id}] ${check.passage.text}`);
      return lines.join("\n");
    },
  });
}
