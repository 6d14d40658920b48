/**
 * Candidate entity mentions: the surface forms in a section's text that can name an entity. The
 * extractor must choose entity names from these (an enum in its schema), so every entity it
 * returns is a span of the section by construction — the model types and relates mentions, it
 * does not invent them. The price is recall: a concept the finder misses cannot be extracted.
 */

/** Words that start a sentence or a phrase without being part of a name. */
const FUNCTION_WORDS = new Set(
  "a an the this that these those its it our we they their each every both some many most such other another in on at by for from to of with as and or but if when while because after before during since finally however instead early modern only all any no".split(" "),
);
/** Particles that join capitalised words into one name ("Bank of England", "Ludwig van Beethoven"). */
const PARTICLES = new Set(["of", "de", "van", "von", "der", "du", "la"]);
/** Every word that may sit inside a name but never end it ("in the" only as in "Lost in the Middle"). */
const CONNECTORS = new Set([...PARTICLES, "in", "the"]);
const CAPITALISED = /^\p{Lu}/u;
const NUMBER = /^\d{1,4}(?:\.\d+)?$/;
const SECTION_REFERENCE = /^(?:section|figure|table|equation|appendix)\s+\d/i;

/** Markdown reduced to its words: emphasis, code ticks, link targets and heading marks go. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/(\*\*|__|`)/g, "")
    .replace(/(^|[\s(])[*_]([^*_\n]+)[*_](?=[\s).,;:!?]|$)/g, "$1$2")
    .replace(/^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+)/gm, "");
}

/**
 * The mentions in `markdown`, most frequent first (ties in order of appearance), at most `limit`:
 * capitalised names and acronyms ("Dense Passage Retrieval", "BM25", "NeurIPS 2020"), terms an
 * acronym defines ("exact match (EM)"), and emphasised or quoted terms.
 */
export function findMentions(markdown: string, limit = 40): string[] {
  const text = plainText(markdown);
  const counts = new Map<string, { form: string; count: number; first: number }>();
  const add = (raw: string, at: number) => {
    const form = raw.trim().replace(/[.,;:!?]+$/, "");
    if (form.length < 2 || form.length > 60 || !/\p{L}/u.test(form) || SECTION_REFERENCE.test(form)) return;
    const key = form.toLowerCase();
    const seen = counts.get(key);
    if (seen) seen.count++;
    else counts.set(key, { form, count: 1, first: at });
  };
  for (const { phrase, at } of capitalisedPhrases(text)) add(phrase, at);
  for (const { phrase, at } of definedTerms(text)) add(phrase, at);
  for (const match of markdown.matchAll(/\*\*([^*\n]{2,60})\*\*|(?<![\w*])\*([^*\n]{2,60})\*(?!\w)|`([^`\n]{2,60})`/g)) add(match[1] ?? match[2] ?? match[3]!, match.index);
  // A quoted term, not a quoted question or sentence.
  for (const match of text.matchAll(/["“]([^"”\n]{2,60})["”]/g)) if (match[1]!.split(/\s+/).length <= 4 && !/[?!.]$/.test(match[1]!)) add(match[1]!, match.index);
  return [...counts.values()].sort((a, b) => b.count - a.count || a.first - b.first).slice(0, limit).map((entry) => entry.form);
}

/** Whether `name` occurs in `text` as whole words, ignoring case, spacing and markdown emphasis. */
export function groundedIn(name: string, text: string): boolean {
  const needle = normalise(name);
  if (!needle) return false;
  const haystack = normalise(plainText(text));
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(needle)}(?![\\p{L}\\p{N}])`, "u").test(haystack);
}

function normalise(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

/** Runs of capitalised words; a lone capitalised word that only ever starts a sentence is not a name. */
function capitalisedPhrases(text: string): Array<{ phrase: string; at: number }> {
  const found: Array<{ phrase: string; at: number; sentenceStart: boolean }> = [];
  const midSentence = new Set<string>();
  for (const sentence of text.matchAll(/[^.!?\n]+[.!?]?/g)) {
    // A possessive is the name itself ("REALM's" → "REALM").
    const words: Word[] = [...sentence[0].matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)].map((match) => ({ token: match[0].replace(/['’]s$/, ""), at: match.index }));
    let run: Word[] = [];
    const flush = () => {
      // A phrase never ends on a connector, nor starts with a function word ("The", "Both").
      while (run.length && CONNECTORS.has(run.at(-1)!.token)) run.pop();
      while (run.length && FUNCTION_WORDS.has(run[0]!.token.toLowerCase())) run.shift();
      // "Written for Conclave": a sentence's first word before a connector is a verb, not part of the name.
      if (run.length > 2 && run[0] === words[0] && CONNECTORS.has(run[1]!.token)) {
        run.shift();
        while (run.length && CONNECTORS.has(run[0]!.token)) run.shift();
      }
      if (run.length && !run.every((word) => NUMBER.test(word.token))) {
        const first = run[0]!;
        const last = run.at(-1)!;
        const phrase = sentence[0].slice(first.at, last.at + last.token.length);
        const sentenceStart = first === words[0];
        found.push({ phrase, at: sentence.index + first.at, sentenceStart });
        if (!sentenceStart) midSentence.add(phrase.toLowerCase());
      }
      run = [];
    };
    words.forEach((word, index) => {
      const previous = run.at(-1);
      // Punctuation ends a name: "REALM, RAG" is two, "Retrieval (DPR" is not one.
      if (previous && /\S/.test(sentence[0].slice(previous.at + previous.token.length, word.at).replace(/^['’]s/, ""))) flush();
      const capitalised = CAPITALISED.test(word.token);
      // A year or version after a name belongs to it ("NeurIPS 2020", "GPT 3").
      const number = NUMBER.test(word.token) && run.length > 0 && !CONNECTORS.has(run.at(-1)!.token);
      const connector = run.length > 0 && joinsName(words, index, run.at(-1)!.token);
      if (capitalised || number || connector) run.push(word);
      else flush();
    });
    flush();
  }
  return found.filter((item) => !item.sentenceStart || item.phrase.includes(" ") || /[A-Z\d]/.test(item.phrase.slice(1)) || midSentence.has(item.phrase.toLowerCase()));
}

interface Word {
  token: string;
  at: number;
}

/** Whether the lowercase word at `index` joins the name so far to a capitalised word after it. */
function joinsName(words: readonly Word[], index: number, previous: string): boolean {
  const [token, next, after] = [words[index]?.token, words[index + 1]?.token ?? "", words[index + 2]?.token ?? ""];
  // "on", "for", "and" are left out: "BM25 on Natural Questions" is two names, not one.
  if (token && PARTICLES.has(token)) return CAPITALISED.test(next) || (next === "the" && CAPITALISED.test(after));
  if (token === "in") return next === "the" && CAPITALISED.test(after);
  if (token === "the") return (previous === "in" || PARTICLES.has(previous)) && CAPITALISED.test(next);
  return false;
}

/** "exact match (EM)" → "exact match": the words before an acronym whose initials spell it. */
function definedTerms(text: string): Array<{ phrase: string; at: number }> {
  const found: Array<{ phrase: string; at: number }> = [];
  for (const match of text.matchAll(/([\p{L}\p{N}][\p{L}\p{N}\s-]{1,80}?)\s+\(([A-Z][A-Za-z]{1,7})\)/gu)) {
    const letters = match[2]!.replace(/[a-z]/g, "").toLowerCase();
    const words = match[1]!.trim().split(/\s+/);
    for (let count = 1; count <= Math.min(words.length, letters.length + 1); count++) {
      const phrase = words.slice(-count).join(" ");
      const initials = phrase.split(/[\s-]+/).map((word) => word[0]!.toLowerCase()).join("");
      if (initials === letters || initials.replace(/[^a-z]/g, "") === letters) {
        found.push({ phrase, at: match.index + match[1]!.lastIndexOf(phrase) });
        break;
      }
    }
    found.push({ phrase: match[2]!, at: match.index + match[0].lastIndexOf(match[2]!) });
  }
  return found;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
