import type { EvidenceSentence } from "./evidence.ts";
import { rankEvidence } from "./evidence.ts";
import { numbers, terms } from "./text.ts";
import type { JsonSchema } from "./tool-choice.ts";
import { typeOf } from "./tool-choice.ts";

/** An extractive answer: the chosen sentences, each followed by its citation. */
export interface ComposedAnswer {
  text: string;
  sentences: Array<EvidenceSentence & { score: number }>;
  /** Share of the request's terms the chosen sentences cover, in [0, 1]. */
  coverage: number;
  /** All the evidence, chosen or not (labelled lines such as "Problem: …" may fill fields). */
  evidence?: readonly EvidenceSentence[];
}

const MAX_SENTENCES = 3;

/** Composes an answer from the most relevant evidence, citing each sentence's source; numbers stay exactly as written. */
export function composeAnswer(request: string, evidence: readonly EvidenceSentence[], errors: readonly string[] = []): ComposedAnswer {
  let chosen = rankEvidence(request, evidence, MAX_SENTENCES).sort((a, b) => a.position - b.position);
  // A request about text it hands over ("summarise this") shares no terms with it: lead with that text.
  if (chosen.length === 0) chosen = evidence.filter((sentence) => sentence.given).slice(0, MAX_SENTENCES).map((sentence) => ({ ...sentence, score: 0.5 }));
  if (chosen.length === 0) {
    const text = evidence.length
      ? "The tool results do not answer this request: none of them is about what it asks."
      : errors.length
        ? `The tools failed, so there is no evidence to answer from: ${errors.join(" ")}`
        : "No evidence was available, and the offline model answers only from tool results and cited text it is given.";
    return { text, sentences: [], coverage: 0, evidence };
  }
  const text = chosen.map((sentence) => withPeriod(sentence.text) + (sentence.source ? ` [${sentence.source}]` : "")).join(" ");
  const requestTerms = new Set(terms(request));
  const covered = new Set(chosen.flatMap((sentence) => terms(sentence.text)).filter((term) => requestTerms.has(term)));
  return { text, sentences: chosen, coverage: requestTerms.size ? covered.size / requestTerms.size : 1, evidence };
}

function withPeriod(sentence: string): string {
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

const ANSWER_NAMES = /answer|text|summary|response|result|content|draft|final|conclusion|output/i;
const SOURCE_NAMES = /source|citation|cite|reference|doc/i;
const REASON_NAMES = /reason|explanation|rationale|justification|why|problem|suggestion|note/i;
const SCORE_NAMES = /confidence|score|probability|certainty|agreement/i;

/**
 * Fills a JSON Schema from an answer and its evidence, field by field, by field name and type:
 * answer-like strings get the answer, source-like fields the cited ids, scores the coverage,
 * numbers the first number of the answer, lists one entry per supporting sentence.
 */
export function fillSchema(schema: JsonSchema, answer: ComposedAnswer, key = ""): unknown {
  const type = typeOf(schema);
  if (schema.enum?.length) return pickEnum(schema.enum, answer);
  switch (type) {
    case "object":
      return fillObject(schema, answer);
    case "array":
      return fillArray(schema, answer, key);
    case "number":
    case "integer":
      return fillNumber(schema, answer, key, type);
    case "boolean":
      return answer.sentences.length > 0;
    default:
      return fillString(answer, key, schema);
  }
}

function fillObject(schema: JsonSchema, answer: ComposedAnswer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) out[name] = fillSchema(property, answer, name);
  return out;
}

function fillArray(schema: JsonSchema, answer: ComposedAnswer, key: string): unknown[] {
  const items = schema.items ?? { type: "string" };
  if (typeOf(items) === "string" && SOURCE_NAMES.test(key)) return [...new Set(answer.sentences.flatMap((sentence) => (sentence.source ? [sentence.source] : [])))];
  // One entry per supporting sentence, each filled as if that sentence were the whole answer.
  return answer.sentences.map((sentence) => fillSchema(items, { text: sentence.text + (sentence.source ? ` [${sentence.source}]` : ""), sentences: [sentence], coverage: sentence.score }, key));
}

function fillNumber(schema: JsonSchema, answer: ComposedAnswer, key: string, type: string): number {
  // Citation markers hold numbers too ("[apollo-11#3]"); they are not part of the answer.
  const prose = answer.text.replace(/\[[^\]]*\]/g, " ");
  let value = SCORE_NAMES.test(describe(key, schema)) || (schema.maximum !== undefined && schema.maximum <= 1) ? answer.coverage : Number((numbers(prose)[0] ?? "0").replace(/,/g, ""));
  if (schema.minimum !== undefined) value = Math.max(schema.minimum, value);
  if (schema.maximum !== undefined) value = Math.min(schema.maximum, value);
  return type === "integer" ? Math.round(value) : value;
}

function fillString(answer: ComposedAnswer, key: string, schema: JsonSchema): string {
  const first = answer.sentences[0];
  const label = describe(key, schema);
  // Evidence that labels a line with the field's name ("Problem: …") says what belongs in it.
  const labelled = (answer.evidence ?? answer.sentences).find((sentence) => sentence.text.toLowerCase().startsWith(`${key.toLowerCase()}:`));
  if (labelled) return labelled.text.slice(key.length + 1).trim();
  if (SOURCE_NAMES.test(key) && !ANSWER_NAMES.test(key)) return first?.source ?? "";
  if (REASON_NAMES.test(label)) return first?.text ?? answer.text;
  return answer.text;
}

/** A field's name and description: both say what belongs in it. */
function describe(key: string, schema: JsonSchema): string {
  return `${key} ${schema.description ?? ""}`;
}

/** The enum value the evidence names first (as a whole word: "supported" is not in "unsupported"), else the first value. */
function pickEnum(values: readonly unknown[], answer: ComposedAnswer): unknown {
  const text = answer.text.toLowerCase();
  let best: { value: unknown; at: number } | undefined;
  for (const value of values) {
    if (typeof value !== "string") continue;
    const at = text.search(new RegExp(`(?<![\\p{L}\\p{N}_-])${escapeRegExp(value.toLowerCase())}(?![\\p{L}\\p{N}_-])`, "u"));
    if (at >= 0 && (!best || at < best.at)) best = { value, at };
  }
  return best?.value ?? values[0];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
