import type { BaseMessage } from "@langchain/core/messages";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { expectedAnswer, hasAnswerKind, idfWeights, overlapScore, sentences, terms } from "./text.ts";

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
  for (const line of text.split(/\r?\n/)) {
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

/** The sentences most relevant to the request, best first, with their relevance in [0, 1]. */
export function rankEvidence(request: string, evidence: readonly EvidenceSentence[], limit: number): Array<EvidenceSentence & { score: number }> {
  const queryTerms = terms(request);
  const weights = idfWeights(evidence.map((sentence) => sentence.text));
  const kind = expectedAnswer(request);
  const seen = new Set<string>();
  const scoreOf = (sentence: EvidenceSentence) => {
    if (uncited(sentence)) return 1;
    const overlap = overlapScore(queryTerms, sentence.text, weights);
    // A question that wants a date or a number is badly answered by a sentence without one.
    return kind && !hasAnswerKind(sentence.text, kind) ? overlap * 0.5 : overlap;
  };
  const ranked = evidence
    .map((sentence) => ({ ...sentence, score: scoreOf(sentence) }))
    .filter((sentence) => sentence.score > 0 && !seen.has(sentence.text) && seen.add(sentence.text))
    .sort((a, b) => b.score - a.score || a.position - b.position);
  // Sentences far less relevant than the best one only dilute the answer.
  const floor = (ranked[0]?.score ?? 0) * 0.5;
  return ranked.filter((sentence) => sentence.score >= floor).slice(0, limit);
}

/** Uncited observations (a calculator's result, a status line) are direct answers to the call that produced them. */
function uncited(sentence: EvidenceSentence): boolean {
  return sentence.source === undefined && sentence.text.length <= 300;
}
