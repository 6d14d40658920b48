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

/**
 * A light suffix stemmer: enough to match "rivers"/"river", "landed"/"landing", "deciphered"/
 * "decipherment", "masses"/"mass" and "invented"/"invention" without a dictionary, while leaving
 * short or irregular words ("speed", "wing", "bus") alone.
 */
export function stem(word: string): string {
  if (/^\d/.test(word) || word.length <= 3) return word;
  let w = word;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (/(?:s|x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);
  for (const suffix of ["ing", "ed"]) {
    const base = w.slice(0, -suffix.length);
    if (!w.endsWith(suffix) || base.length < 3 || base.endsWith("e") || !/[aeiouy]/.test(base)) continue;
    // "running" → "run", "stopped" → "stop", but "falling" → "fall".
    w = /([b-df-hj-km-np-rtv-z])\1$/.test(base) ? base.slice(0, -1) : base;
    break;
  }
  if (w.endsWith("ment") && w.length >= 8) w = w.slice(0, -4);
  else if (w.endsWith("tion") && w.length >= 7) w = w.slice(0, -3);
  else if (w.endsWith("ly") && w.length >= 5) w = w.slice(0, -2);
  return w;
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

export type AnswerKind = "date" | "measure" | "person";

/**
 * What kinds of answer a question wants: "when" a date, "how tall/long/many…" a measure, "who" a
 * person ("how long is it and when did it open?" wants two). Ranking prefers sentences that hold one.
 */
export function expectedAnswer(question: string): AnswerKind[] {
  const q = question.toLowerCase();
  const kinds: AnswerKind[] = [];
  if (/\b(when|what year|which year|what date)\b/.test(q)) kinds.push("date");
  if (/\bhow (many|much|tall|long|far|old|high|deep|fast|big|large|heavy|wide|hot|cold)\b|\bwhat is the (height|length|population|speed|distance|area|age|number|size|mass|depth|temperature)\b/.test(q)) kinds.push("measure");
  if (/(^|[.?!]\s*)who\b|\bwho (invented|discovered|built|wrote|founded|designed|deciphered|painted|led|first)\b|\bby whom\b/.test(q)) kinds.push("person");
  return kinds;
}

const MONTH = "January|February|March|April|May|June|July|August|September|October|November|December";
const UNIT = String.raw`%|per ?cent|metres?|meters?|km|kilomet(?:re|er)s?|miles?|feet|foot|ft|cm|mm|kg|kilograms?|tonnes?|tons?|grams?|seconds?|minutes?|hours?|days?|years?|litres?|liters?|degrees?|°|million|billion|thousand|hundred|people|species|times|kilometres per second|km/s|mph`;

const NAME_WORD = String.raw`\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?`;
const PERSON = new RegExp(String.raw`(?<=\s)${NAME_WORD}(?:\s+(?:\p{Lu}\.\s*)?${NAME_WORD})+`, "gu");

/**
 * True when the text holds an answer of the expected kind. For "who", a name the question itself
 * mentions ("the Rosetta Stone") is not an answer, so `asked` names are ignored.
 */
export function hasAnswerKind(text: string, kind: AnswerKind, asked: ReadonlySet<string> = new Set()): boolean {
  switch (kind) {
    case "date":
      return new RegExp(String.raw`\b(1\d{3}|20\d{2})\b|\b(${MONTH})\b|\b\d{1,2}(st|nd|rd|th)? century\b`).test(text);
    case "measure":
      return new RegExp(String.raw`\d[\d,.]*\s*(?:${UNIT})(?![a-z])`, "i").test(text);
    case "person":
      // Two capitalised words in a row past the sentence's start: "… scholar Jean-François Champollion".
      return [...text.matchAll(PERSON)].some((match) => terms(match[0]).some((term) => !asked.has(term)));
  }
}

/**
 * Proper names in a question (capitalised words that do not open a line or sentence, and are not
 * labels such as "Findings:"), as stemmed terms.
 */
export function entityTerms(question: string): string[] {
  const found: string[] = [];
  for (const line of question.split(/\r?\n/)) {
    const tokens = [...line.matchAll(/[\p{L}\p{N}]+(:?)/gu)];
    tokens.forEach((match, index) => {
      const word = match[0].replace(/:$/, "");
      const opensSentence = index === 0 || /[.?!]\s*$/.test(line.slice(0, match.index));
      if (opensSentence || match[1] === ":" || !/^\p{Lu}/u.test(word) || word.length < 2 || STOPWORDS.has(word.toLowerCase())) return;
      found.push(stem(word.toLowerCase()));
    });
  }
  return found;
}

/** Number-like tokens exactly as written ("8,849", "3.5", "1969"). */
export function numbers(text: string): string[] {
  return text.match(/-?\d[\d,]*(?:\.\d+)?/g) ?? [];
}

const OPERAND = String.raw`(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+|\bpi\b|\be\b)`;
const ARITHMETIC = new RegExp(String.raw`[-+(\s]*(?:[a-z]+\()?\s*${OPERAND}\s*\)*(?:\s*(?:\*\*|[-+*/×÷^%])\s*[-+(\s]*(?:[a-z]+\()?\s*${OPERAND}\s*\)*)+`, "gi");

const FUNCTION_CALL = /\b(?:sqrt|abs|log|log10|exp|sin|cos|tan|round|floor|ceil)\(\s*[\d.,]+\s*\)/gi;

/**
 * The longest arithmetic expression in free text, e.g. "17 * 23 + 4" in "What is 17 * 23 + 4?".
 * Only detects; evaluation is a tool's job.
 */
export function findArithmetic(text: string): string | undefined {
  const rewritten = spelledOutArithmetic(text);
  const candidates = [...(rewritten.match(ARITHMETIC) ?? []), ...(rewritten.match(FUNCTION_CALL) ?? [])].map(balance).filter((candidate) => /\d/.test(candidate));
  // Thousands separators are for readers; calculators want plain numbers.
  return candidates.sort((a, b) => b.length - a.length)[0]?.replace(/(\d),(?=\d{3}\b)/g, "$1");
}

/** "15% of 80" → "15/100*80", "square root of 144" → "sqrt(144)", "3 squared" → "3^2". */
function spelledOutArithmetic(text: string): string {
  const number = String.raw`(\d[\d,]*(?:\.\d+)?)`;
  return text
    .replace(new RegExp(String.raw`${number}\s*(?:%|per ?cent)\s+of\s+${number}`, "gi"), "$1/100*$2")
    .replace(new RegExp(String.raw`(?:the\s+)?square root of\s+${number}`, "gi"), "sqrt($1)")
    .replace(new RegExp(String.raw`${number}\s+squared\b`, "gi"), "$1^2")
    .replace(new RegExp(String.raw`${number}\s+cubed\b`, "gi"), "$1^3");
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
