/** The cheap signals: intent keywords and a sentiment lexicon. Deterministic; no model. */
import type { Intent, Queue } from "./state.ts";

export type Department = "billing" | "technical" | "account";

/** Words that point to a department. */
export const DEPARTMENT_KEYWORDS: Readonly<Record<Department, RegExp>> = Object.freeze({
  billing: /\b(?:invoices?|charg(?:e|ed|es|ing)|overcharged|refunds?|payments?|paid|bill(?:ed|ing)?|subscriptions?|receipts?|credit card)\b/gi,
  technical: /\b(?:crash(?:es|ed|ing)?|errors?|bugs?|broken|not working|doesn't work|fails?|failing|freez(?:es|ing)|install(?:ing|ation)?)\b/gi,
  account: /\b(?:passwords?|log ?in|sign[- ]?in|accounts?|email address|username|two-factor|2fa|profile)\b/gi,
});

/** A how-to or policy question: what a knowledge base answers. */
export const FAQ_QUESTION = /\b(?:how (?:do|can|should) i|how long|how much|what is your|what are your|where can i|when (?:do|does|will) (?:you|my))\b/i;

export interface IntentGuess {
  /** Undefined when the rules cannot tell: a model decides. */
  intent?: Intent;
  fallback: Queue;
  reason: string;
}

/** Keyword rules: an FAQ question wins; otherwise the department with the most keyword hits, if it is the only one. */
export function intentByRules(text: string): IntentGuess {
  const hits = (Object.keys(DEPARTMENT_KEYWORDS) as Department[]).map((department) => ({ department, words: [...new Set((text.match(DEPARTMENT_KEYWORDS[department]) ?? []).map((word) => word.toLowerCase()))] }));
  hits.sort((a, b) => b.words.length - a.words.length);
  const [top, second] = hits;
  const clear = top && top.words.length > 0 && top.words.length > (second?.words.length ?? 0);
  const fallback: Queue = clear ? top.department : "general";
  const faq = FAQ_QUESTION.exec(text);
  if (faq) return { intent: "faq", fallback, reason: `asks "${faq[0]}…", a question the knowledge base may answer${clear ? ` (else ${top.department}: ${top.words.join(", ")})` : ""}` };
  if (clear) return { intent: top.department, fallback, reason: `${top.department} keywords: ${top.words.join(", ")}` };
  const tied = hits.filter((hit) => hit.words.length > 0 && hit.words.length === top?.words.length);
  return { fallback, reason: tied.length ? `keywords tie between ${tied.map((hit) => hit.department).join(" and ")}` : "no department keywords" };
}

/** Sentiment terms and their weights (negative below zero). */
export const SENTIMENT_LEXICON: Readonly<Record<string, number>> = Object.freeze({
  thanks: 0.5,
  "thank you": 0.5,
  great: 0.5,
  love: 0.6,
  appreciate: 0.5,
  please: 0.1,
  wrong: -0.3,
  annoying: -0.5,
  disappointed: -0.6,
  terrible: -0.8,
  awful: -0.8,
  worst: -0.9,
  useless: -0.7,
  ridiculous: -0.7,
  unacceptable: -0.9,
  furious: -1,
  angry: -0.8,
  scam: -0.9,
  "third time": -0.6,
  "still not": -0.4,
  cancel: -0.3,
});

/**
 * A lexicon score in -1..1: the weights of the terms found, plus shouting (words in capitals,
 * repeated "!"), squashed by x / (1 + |x|) so a few strong words approach but never pass -1.
 */
export function sentimentOf(text: string): { score: number; terms: string[] } {
  const lower = text.toLowerCase();
  const terms = Object.keys(SENTIMENT_LEXICON).filter((term) => new RegExp(`(?<![\\p{L}])${term}(?![\\p{L}])`, "u").test(lower));
  let raw = terms.reduce((sum, term) => sum + SENTIMENT_LEXICON[term]!, 0);
  const shouted = (text.match(/\b[A-Z]{3,}\b/g) ?? []).length;
  const bangs = (text.match(/!/g) ?? []).length;
  if (raw < 0) raw -= 0.2 * Math.min(shouted, 3) + 0.1 * Math.min(bangs, 3);
  return { score: Math.round((raw / (1 + Math.abs(raw))) * 100) / 100, terms };
}
