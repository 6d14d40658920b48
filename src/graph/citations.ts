import { sentences as splitSentences } from "../models/offline/text.ts";

/** A source an answer cites, with the sentence that cites it. */
export interface Citation {
  source: string;
  text: string;
}

const MARKER = /\[([\w][\w:./#-]{0,120})\]/g;

/**
 * The `[source-id]` citations in an answer, in order of first use, each with the sentence it
 * ends. Only ids that look like ids (no spaces) count, so "[sic]"-style prose still parses.
 */
export function extractCitations(answer: string): Citation[] {
  const found = new Map<string, Citation>();
  let sentenceStart = 0;
  for (const match of answer.matchAll(MARKER)) {
    const source = match[1]!;
    const text = answer.slice(sentenceStart, match.index).replace(MARKER, "").trim();
    if (!found.has(source)) found.set(source, { source, text });
    sentenceStart = match.index + match[0].length;
  }
  return [...found.values()];
}

/** One claim of a text and the sources cited right after it. */
export interface CitedClaim {
  claim: string;
  sources: string[];
}

/**
 * Splits a text into claims — sentences — each with the `[source-id]` markers that follow it
 * ("A. [x] B [y][z]." gives A with x, B with y and z). Sentences followed by no marker are
 * claims with no sources, so a verifier can flag them.
 */
export function citedClaims(text: string): CitedClaim[] {
  const out: CitedClaim[] = [];
  let cursor = 0;
  let open: CitedClaim | undefined;
  const addProse = (prose: string) => {
    const parts = splitSentences(prose.replace(/^[\s.,;:!?]+/, ""));
    for (const part of parts) out.push((open = { claim: part.trim(), sources: [] }));
  };
  for (const match of text.matchAll(MARKER)) {
    const between = text.slice(cursor, match.index);
    if (between.replace(/[\s.,;:!?]+/g, "") !== "") addProse(between);
    if (open && !open.sources.includes(match[1]!)) open.sources.push(match[1]!);
    cursor = match.index + match[0].length;
  }
  const rest = text.slice(cursor);
  if (rest.replace(/[\s.,;:!?]+/g, "") !== "") {
    open = undefined;
    addProse(rest);
  }
  return out.filter((item) => item.claim.length > 0).map((item) => ({ claim: withPeriod(item.claim), sources: item.sources }));
}

function withPeriod(sentence: string): string {
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
