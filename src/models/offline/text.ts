/** Small, dependency-free text utilities the offline model and offline embeddings share. */

const STOPWORDS = new Set(
  ("a an and are as at be been but by can could did do does for from had has have how i if in into is it its " +
    "me my no not of on or our so than that the their them then there these they this those to was we were what " +
    "when where which who whom why will with would you your about after also any each more most other over such " +
    "only own same some very just should now please tell give explain describe answer question").split(" "),
);

/** Lower-case word tokens (letters, digits, inner apostrophes and dots in numbers). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:[.'][\p{L}\p{N}]+)*/gu) ?? [];
}

/** A crude stemmer: enough to match "rivers"/"river" and "landed"/"landing" without a dictionary. */
export function stem(word: string): string {
  if (/^\d/.test(word) || word.length <= 3) return word;
  return word.replace(/(?:ing|edly|ed|ies|es|s|ly)$/u, (suffix) => (suffix === "ies" ? "y" : "")) || word;
}

/** Content terms: stemmed words without stop words. */
export function terms(text: string): string[] {
  return words(text).filter((word) => !STOPWORDS.has(word)).map(stem);
}

/** Endings after which a full stop does not end a sentence: initials ("John F.") and common abbreviations. */
const NOT_AN_END = /(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|e\.g|i\.e|approx|No|Fig|U\.S|U\.K|a\.m|p\.m))\.$/u;

/** Splits prose into sentences, keeping decimals ("3.5"), initials ("John F. Kennedy") and abbreviations together. */
export function sentences(text: string): string[] {
  const pieces = text.replace(/\s+/g, " ").split(/(?<=[.!?])\s+(?=[A-Z0-9"“(])/u);
  const out: string[] = [];
  for (const piece of pieces) {
    const previous = out.at(-1);
    if (previous !== undefined && NOT_AN_END.test(previous)) out[out.length - 1] = `${previous} ${piece}`;
    else out.push(piece);
  }
  return out.map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 0);
}

/**
 * What kind of answer a question wants, read from its first words: "when" wants a date or year,
 * "how many/much/tall/…" a number. Ranking gives sentences of that kind a small bonus.
 */
export function expectedAnswer(question: string): "date" | "number" | undefined {
  const start = question.trim().toLowerCase();
  if (/^(when|what year|in what year|which year)\b/.test(start)) return "date";
  if (/^(how (many|much|tall|long|far|old|high|deep|fast|big|large|heavy))\b|^what is the (height|length|population|speed|distance|area|age|number)\b/.test(start)) return "number";
  return undefined;
}

/** True when the text holds an answer of the expected kind. */
export function hasAnswerKind(text: string, kind: "date" | "number"): boolean {
  return kind === "date" ? /\b(1\d{3}|20\d{2})\b|\b(January|February|March|April|May|June|July|August|September|October|November|December)\b/.test(text) : /\d/.test(text);
}

/** Number-like tokens exactly as written ("8,849", "3.5", "1969"). */
export function numbers(text: string): string[] {
  return text.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? [];
}

const OPERAND = String.raw`(?:\d+(?:\.\d+)?|\.\d+|\bpi\b|\be\b)`;
const ARITHMETIC = new RegExp(String.raw`[-+(\s]*(?:[a-z]+\()?\s*${OPERAND}\s*\)*(?:\s*(?:\*\*|[-+*/×÷^%])\s*[-+(\s]*(?:[a-z]+\()?\s*${OPERAND}\s*\)*)+`, "gi");

/**
 * The longest arithmetic expression in free text, e.g. "17 * 23 + 4" in "What is 17 * 23 + 4?".
 * Only detects; evaluation is a tool's job.
 */
export function findArithmetic(text: string): string | undefined {
  const candidates = (text.match(ARITHMETIC) ?? []).map(balance).filter((candidate) => /\d/.test(candidate));
  return candidates.sort((a, b) => b.length - a.length)[0];
}

/** Trims a match and drops unmatched parentheses at its edges. */
function balance(candidate: string): string {
  let expression = candidate.trim();
  const count = (char: string) => expression.split(char).length - 1;
  while (expression.startsWith("(") && count("(") > count(")")) expression = expression.slice(1).trim();
  while (expression.endsWith(")") && count(")") > count("(")) expression = expression.slice(0, -1).trim();
  return expression;
}

/** Share of the query's terms that occur in the text, weighted by term rarity in the pool. */
export function overlapScore(queryTerms: readonly string[], text: string, weights?: ReadonlyMap<string, number>): number {
  if (queryTerms.length === 0) return 0;
  const have = new Set(terms(text));
  let score = 0;
  let total = 0;
  for (const term of new Set(queryTerms)) {
    const weight = weights?.get(term) ?? 1;
    total += weight;
    if (have.has(term)) score += weight;
  }
  return total === 0 ? 0 : score / total;
}

/** Inverse document frequency of each term over a pool of texts (rare terms weigh more). */
export function idfWeights(texts: readonly string[]): Map<string, number> {
  const documentFrequency = new Map<string, number>();
  for (const text of texts) for (const term of new Set(terms(text))) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const weights = new Map<string, number>();
  for (const [term, frequency] of documentFrequency) weights.set(term, Math.log(1 + texts.length / frequency));
  return weights;
}

/** A rough token estimate (about four characters a token), for usage accounting offline. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
