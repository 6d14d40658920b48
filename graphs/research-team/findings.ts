import type { BaseMessage } from "@langchain/core/messages";
import { ToolMessage } from "@langchain/core/messages";
import { citedClaims, contentTerms, extractNumbers, splitSentences } from "conclave";
import type { Finding } from "./state.ts";

const CITED_LINE = /^\s*\[([^\]\s][^\]]{0,120})\]\s*(.*)$/;

/**
 * The sources an agent actually saw: every `[id] passage` block of its tool observations, and
 * each tool's whole output under `tool:<name>` (a calculator result has no source id of its own).
 */
export function observedSources(messages: readonly BaseMessage[]): Map<string, string> {
  const sources = new Map<string, string>();
  for (const message of messages) {
    if (!ToolMessage.isInstance(message) || message.status === "error") continue;
    let current: string | undefined;
    for (const line of message.text.split(/\r?\n/)) {
      const cited = CITED_LINE.exec(line);
      if (cited) {
        current = cited[1]!.trim();
        sources.set(current, cited[2] ?? "");
      } else if (current && line.trim()) {
        sources.set(current, `${sources.get(current)} ${line.trim()}`.trim());
      }
    }
    const tool = `tool:${message.name ?? "tool"}`;
    sources.set(tool, [sources.get(tool), message.text].filter(Boolean).join("\n"));
  }
  return sources;
}

/** Share of a claim's content terms found in a text, and whether the text states all the claim's numbers. */
export function support(claim: string, text: string): { coverage: number; numbersStated: boolean } {
  const claimTerms = [...new Set(contentTerms(claim))];
  const have = new Set(contentTerms(text));
  const coverage = claimTerms.length ? claimTerms.filter((term) => have.has(term)).length / claimTerms.length : 0;
  const stated = new Set(extractNumbers(text).map((value) => value.replace(/,/g, "")));
  return { coverage, numbersStated: extractNumbers(claim).every((value) => stated.has(value.replace(/,/g, ""))) };
}

/**
 * Turns a research answer into findings. A claim citing a source the agent never saw is rejected
 * (research must not invent source ids); an uncited claim becomes a finding only when a tool's own
 * output states it word for word (a calculator result), cited as `tool:<name>`.
 */
export function findingsFrom(answer: string, observed: ReadonlyMap<string, string>, meta: { agent: string; round: number; subQuestion: string }): { findings: Finding[]; rejected: string[] } {
  const findings: Finding[] = [];
  const rejected: string[] = [];
  const toolOutputs = [...observed].filter(([id]) => id.startsWith("tool:"));
  for (const { claim, sources } of citedClaims(answer)) {
    const known = sources.filter((source) => observed.has(source));
    rejected.push(...sources.filter((source) => !observed.has(source)));
    const evidence = known.length
      ? known.map((source) => [source, observed.get(source)!] as const)
      : sources.length === 0
        ? toolOutputs.filter(([, output]) => squash(output).includes(squash(claim))).slice(0, 1)
        : [];
    for (const [sourceId, passage] of evidence) {
      findings.push({ id: `${meta.subQuestion}-f${findings.length + 1}`, claim, evidence: passage, sourceId, agent: meta.agent, round: meta.round, subQuestion: meta.subQuestion });
    }
  }
  return { findings, rejected };
}

/** Lower-case words only, so "17 * 23 + 4 = 395." matches "17 * 23 + 4 = 395". */
function squash(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}*+\-/=%^().]+/gu, " ").replace(/\.(\s|$)/g, "$1").replace(/\s+/g, " ").trim();
}

/**
 * Findings taken straight from what the tools returned, for when research stopped before it could
 * answer: the sentences of cited passages that share the most terms with the question.
 */
export function findingsFromObservations(question: string, observed: ReadonlyMap<string, string>, meta: { agent: string; round: number; subQuestion: string }, limit = 2): Finding[] {
  const questionTerms = new Set(contentTerms(question));
  const scored = [...observed]
    .filter(([id]) => !id.startsWith("tool:"))
    .flatMap(([sourceId, passage]) => splitSentences(passage).map((sentence) => ({ sourceId, passage, sentence, score: contentTerms(sentence).filter((term) => questionTerms.has(term)).length })))
    .filter((candidate) => candidate.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
  return scored.map((candidate, index) => ({ id: `${meta.subQuestion}-p${index + 1}`, claim: candidate.sentence, evidence: candidate.passage, sourceId: candidate.sourceId, agent: meta.agent, round: meta.round, subQuestion: meta.subQuestion }));
}
