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
