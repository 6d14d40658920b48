import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { HumanMessage } from "@langchain/core/messages";
import { answerFromMessages, createAgentGraph, defineAgent } from "conclave";

/** The document types the processor files, with the words that mark them. */
export const DOCUMENT_TYPES: Record<string, readonly string[]> = {
  invoice: ["invoice", "payment", "due", "total", "vat", "bank transfer", "amount"],
  contract: ["agreement", "party", "parties", "term", "termination", "clause", "signed"],
  complaint: ["complaint", "unhappy", "refund", "disappointed", "broken", "apologise"],
  report: ["findings", "results", "method", "quarter", "analysis", "summary"],
};

/** A classification and how sure it is: the share of type-marking words that belong to the winning type. */
export function classify(text: string): { label: string; confidence: number; reason: string } {
  const lower = text.toLowerCase();
  const hits = Object.entries(DOCUMENT_TYPES).map(([label, words]) => ({ label, count: words.filter((word) => lower.includes(word)).length }));
  const total = hits.reduce((sum, hit) => sum + hit.count, 0);
  const best = hits.reduce((top, hit) => (hit.count > top.count ? hit : top), { label: "note", count: 0 });
  if (total === 0) return { label: "note", confidence: 0.5, reason: "no type-marking words" };
  // Few markers are weak evidence, whatever their share: scale by how many were found.
  const confidence = (best.count / total) * Math.min(1, best.count / 4);
  return { label: best.label, confidence: Number(confidence.toFixed(3)), reason: `${best.count} of ${total} type-marking words say ${best.label}` };
}

/** Metadata read off the text: title, dates, amounts, references. */
export function metadata(text: string) {
  const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? text.split("\n")[0]!.slice(0, 80);
  const dates = [...text.matchAll(/\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b/g)].map((match) => match[0]);
  const amounts = [...text.matchAll(/\b(\d{1,3}(?:,\d{3})*(?:\.\d{2})?) (EUR|USD|GBP)\b/g)].map((match) => ({ value: Number(match[1]!.replace(/,/g, "")), currency: match[2]! }));
  const references = [...new Set([...text.matchAll(/\b[A-Z]{2,4}-\d{4}-\d{2,3}\b/g)].map((match) => match[0]))];
  return { title, words: text.split(/\s+/).filter(Boolean).length, dates, amounts, references };
}

/** Organisations and people: runs of capitalised words ending in a company suffix, or two capitalised names. */
export function entities(text: string): string[] {
  const organisations = [...text.matchAll(/\b(?:[A-Z][a-z]+ ){1,3}(?:Ltd|GmbH|Inc|LLC|SA|AG)\b/g)].map((match) => match[0].trim());
  return [...new Set(organisations)];
}

const summariser = createAgentGraph(defineAgent({ name: "summariser", instructions: "Summarise the document in two sentences: what it is, and the facts that matter (parties, amounts, dates). Quote numbers exactly.", tools: [], maxSteps: 1 }));

/** A two-sentence summary by the run's model; the document is given as a cited source, so any model (the offline one included) can ground it. */
export async function summarise(id: string, text: string, config: LangGraphRunnableConfig): Promise<string> {
  const body = text.replace(/^#.*$/gm, "").replace(/\s+/g, " ").trim();
  const result = await summariser.invoke({ messages: [new HumanMessage(`Summarise document ${id}: what it is, the parties, amounts and dates.\n\n[${id}] ${body}`)] }, config);
  return answerFromMessages(result.messages).answer;
}

/** Share of the summary's content words that appear in the document: a summary that invents is not grounded. */
export function grounding(summary: string, text: string): number {
  const words = (value: string) => value.toLowerCase().match(/[a-z0-9][a-z0-9.,-]*[a-z0-9]|[a-z0-9]/g) ?? [];
  const document = new Set(words(text));
  const content = words(summary).filter((word) => word.length > 3);
  return content.length ? content.filter((word) => document.has(word)).length / content.length : 0;
}
