import type { BaseMessage } from "@langchain/core/messages";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { entityTerms, expectedAnswer, hasAnswerKind, idfWeights, overlapScore, sentences, terms } from "./text.ts";

/** One sentence of evidence and the source id it may be cited with. */
export interface EvidenceSentence {
  text: string;
  source?: string;
  /** Order of appearance, to keep the answer readable. */
  position: number;
  /** Given in the request itself rather than found by a tool. */
  given?: boolean;
}

/** A line that starts with `[id]` opens a passage from source `id` (the convention tools follow to be citable). */
const CITED_LINE = /^\s*\[([^\]\s][^\]]{0,120})\]\s*(.*)$/;

/**
 * Evidence the offline model may answer from: the tool observations of the conversation, plus
 * passages quoted in requests. Error observations are not evidence.
 */
export function collectEvidence(messages: readonly BaseMessage[]): EvidenceSentence[] {
  const found: EvidenceSentence[] = [];
  for (const message of messages) {
    if (ToolMessage.isInstance(message) && message.status !== "error" && !message.text.startsWith("Error:")) {
      found.push(...splitPassages(message.text, found.length));
    } else if (HumanMessage.isInstance(message)) {
      // Context pasted into a request counts only when it is marked with source ids.
      found.push(...splitPassages(message.text, found.length).filter((sentence) => sentence.source).map((sentence) => ({ ...sentence, given: true })));
    }
  }
  return found;
}

function splitPassages(text: string, offset: number): EvidenceSentence[] {
  const out: EvidenceSentence[] = [];
  let source: string | undefined;
  let buffer: string[] = [];
  const flush = () => {
    for (const sentence of sentences(buffer.join(" "))) out.push({ text: sentence, position: offset + out.length, ...(source ? { source } : {}) });
    buffer = [];
  };
  for (const raw of text.split(/\r?\n/)) {
    // Markdown structure is not prose: headings and list items stand alone, markers go.
    const isItem = /^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s)/.test(raw);
    const line = raw.replace(/^(\s*)(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)/, "$1").replace(/(\*\*|__|`)/g, "");
    if (isItem) flush();
    const cited = CITED_LINE.exec(line);
    if (cited) {
      flush();
      source = cited[1]!.trim();
      if (cited[2]) buffer.push(cited[2]);
    } else if (line.trim() === "") {
      flush();
    } else {
      buffer.push(line.trim());
    }
  }
  flush();
  return out;
}

/** Below this relevance a sentence is not an answer, however it ranks. */
const RELEVANCE_FLOOR = 0.2;
const PRONOUN_START = /^(?:he|she|it|they|this|these|those|his|her|its|their)\b/i;

/**
 * The sentences most relevant to the request, best first, with their relevance in [0, 1]. A
 * passage's source id names its topic ("apollo-11#2"), so its words count for every sentence of
 * the passage; the question's kind (when / how much / who) prefers sentences that can answer it.
 * Nothing is returned when the evidence never mentions a name the question asks about.
 */
export function rankEvidence(request: string, evidence: readonly EvidenceSentence[], limit: number): Array<EvidenceSentence & { score: number }> {
  const queryTerms = terms(request);
  const weights = idfWeights(evidence.map((sentence) => sentence.text));
  const kinds = expectedAnswer(request);
  const asked = new Set(queryTerms);
  const pool = new Set(evidence.flatMap((sentence) => terms(`${sentence.text} ${topicOf(sentence.source)}`)));
  if (entityTerms(request).some((entity) => !pool.has(entity))) return evidence.filter(uncited).map((sentence) => ({ ...sentence, score: 1 })).slice(0, limit);
  const seen = new Set<string>();
  const scoreOf = (sentence: EvidenceSentence) => {
    if (uncited(sentence)) return 1;
    let score = overlapScore(queryTerms, `${sentence.text} ${topicOf(sentence.source)}`, weights);
    if (kinds.length && !kinds.some((kind) => hasAnswerKind(sentence.text, kind, asked))) score *= 0.5;
    if (PRONOUN_START.test(sentence.text)) score *= 0.8;
    return score >= RELEVANCE_FLOOR ? score : 0;
  };
  const ranked = evidence
    .map((sentence) => ({ ...sentence, score: scoreOf(sentence) }))
    .filter((sentence) => sentence.score > 0 && !seen.has(sentence.text) && seen.add(sentence.text))
    .sort((a, b) => b.score - a.score || a.position - b.position);
  // Sentences far less relevant than the best one only dilute the answer.
  const floor = (ranked[0]?.score ?? 0) * 0.5;
  return ranked.filter((sentence) => sentence.score >= floor).slice(0, limit);
}

/** "apollo-11#2" → "apollo 11"; "file:notes/plan.md" → "notes plan". */
function topicOf(source: string | undefined): string {
  return (source ?? "").replace(/#\d+$/, "").replace(/\.\w+$/, "").replace(/^[a-z]+:/, "").replace(/[-_/.]+/g, " ");
}

/** Uncited observations (a calculator's result, a status line) are direct answers to the call that produced them. */
function uncited(sentence: EvidenceSentence): boolean {
  return sentence.source === undefined && sentence.text.length <= 300;
}
