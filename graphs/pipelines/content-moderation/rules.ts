/** The cheap stages: keyword and pattern rules, then a lexicon scorer. No model, deterministic. */

/** A rule that decides on its own: a match blocks (or allows) the message outright. */
export interface ModerationRule {
  name: string;
  pattern: RegExp;
  verdict: "allow" | "block";
}

/** Rules for what is never acceptable, whatever the wording around it. */
export const DEFAULT_RULES: readonly ModerationRule[] = Object.freeze([
  { name: "threat", pattern: /\b(?:i(?:'ll| will)|we(?:'ll| will)|gonna)\s+(?:find|hurt|kill|beat|shoot|stab)\b.*\byou\b|\b(?:kill|hurt|shoot|stab)\s+you\b/i, verdict: "block" },
  { name: "scam", pattern: /\bfree\s+money\b|\bcrypto\s+giveaway\b|\bclaim\s+your\s+(?:prize|reward|coins)\b/i, verdict: "block" },
  { name: "link-shortener", pattern: /\b(?:bit\.ly|tinyurl\.com|goo\.gl|t\.co)\/\S+/i, verdict: "block" },
  { name: "card-number", pattern: /\b(?:\d[ -]?){15,16}\b/, verdict: "block" },
]);

/** Insult and hostility terms with how strongly each suggests abuse (0..1). */
export const DEFAULT_LEXICON: Readonly<Record<string, number>> = Object.freeze({
  idiot: 0.5,
  moron: 0.5,
  stupid: 0.4,
  dumb: 0.35,
  loser: 0.4,
  pathetic: 0.3,
  trash: 0.3,
  hate: 0.3,
  "shut up": 0.35,
  "nobody asked": 0.25,
  worthless: 0.45,
});

export interface RuleMatch {
  rule: ModerationRule;
  matched: string;
}

/** The first rule that matches the text. */
export function matchRules(text: string, rules: readonly ModerationRule[]): RuleMatch | undefined {
  for (const rule of rules) {
    const found = rule.pattern.exec(text);
    if (found) return { rule, matched: found[0] };
  }
  return undefined;
}

export interface Score {
  /** 0 (clean) .. 1 (abusive). */
  score: number;
  /** The lexicon terms found. */
  terms: string[];
}

/**
 * A noisy-or over the lexicon terms found (each a whole word or phrase, counted once): two mild
 * insults score higher than one, but no number of them passes 1. Shouting adds a little.
 */
export function scoreText(text: string, lexicon: Readonly<Record<string, number>>): Score {
  const lower = text.toLowerCase();
  const terms = Object.keys(lexicon).filter((term) => new RegExp(`(?<![\\p{L}])${term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\p{L}])`, "u").test(lower));
  let clean = terms.reduce((product, term) => product * (1 - lexicon[term]!), 1);
  const letters = text.replace(/[^\p{L}]/gu, "");
  if (terms.length && letters.length >= 8 && letters === letters.toUpperCase()) clean *= 0.8;
  return { score: Math.round((1 - clean) * 100) / 100, terms };
}
