import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { OutputValidationError, answerFromMessages, isBudgetExceeded, reportEvent, withRound } from "conclave";
import type { Extraction, PaperAgents } from "./agents.ts";
import { findMentions, groundedIn } from "./mentions.ts";
import { loadPaper, splitPaper } from "./sections.ts";
import type { Entity, PaperStateType, PaperUpdate, Relation, Section } from "./state.ts";

/** What one section's summarise or extract task receives through `Send`. */
export interface SectionTask {
  section: Section;
  paper: string;
}

/** Reads the paper and splits it into sections. */
export function splitNode(cwd: string, maxSectionChars: number) {
  return async (state: PaperStateType, config: LangGraphRunnableConfig): Promise<PaperUpdate> => {
    const { markdown } = loadPaper(state.source, cwd);
    const { title, sections, skipped } = await splitPaper(markdown, { maxSectionChars });
    const left = skipped.length ? `; left out: ${skipped.map((item) => `"${item.title}" (${item.reason})`).join(", ")}` : "";
    reportEvent(config, { type: "decision", by: "split", next: "summarise", reason: `${sections.length} section(s); summarising and extracting each in parallel${left}` });
    return { title, sections, skipped };
  };
}

/** One section's summary, through the section-summariser agent. */
export function summariseNode(agents: PaperAgents) {
  return async ({ section, paper }: SectionTask, config: LangGraphRunnableConfig): Promise<PaperUpdate> => {
    const request = `Summarise section ${section.id} ("${section.title}") of the paper "${paper}".\n\n${cited(section.id, section.text)}`;
    try {
      const { messages } = await agents.section.invoke({ messages: [new HumanMessage(request)] }, withRound(config, 1, section.id));
      const { answer } = answerFromMessages(messages);
      return { summaries: [{ section: section.id, title: section.title, summary: answer }] };
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      return { incidents: [`the budget ran out before section ${section.id} ("${section.title}") was summarised`] };
    }
  };
}

const OVERVIEW_ASKS = {
  executive: "Write the executive summary of the paper: the problem the work addresses, the approach it takes, and its central conclusion.",
  technical: "Write the technical summary of the paper: methods and architectures, datasets and metrics, results and limitations.",
} as const;

/** The executive or the technical summary, written from the section summaries (not the full text, which may not fit). */
export function overviewNode(kind: keyof typeof OVERVIEW_ASKS, agents: PaperAgents) {
  return async (state: PaperStateType, config: LangGraphRunnableConfig): Promise<PaperUpdate> => {
    const order = new Map(state.sections.map((section, index) => [section.id, index]));
    const summaries = [...state.summaries].sort((a, b) => (order.get(a.section) ?? 0) - (order.get(b.section) ?? 0));
    const key = kind === "executive" ? "executiveSummary" : "technicalSummary";
    if (summaries.length === 0) return { [key]: "", incidents: [`no section summaries to write the ${kind} summary from`] };
    // A summary's own section markers are dropped: each line is cited with its section once.
    const lines = summaries.map((item) => `[${item.section}] ${item.summary.replace(/\s*\[s\d+(?:\.\d+)?\]/g, "")}`);
    const request = `${OVERVIEW_ASKS[kind]}\n\nSection summaries, in the paper's order:\n${lines.join("\n")}`;
    try {
      const { messages } = await (kind === "executive" ? agents.executive : agents.technical).invoke({ messages: [new HumanMessage(request)] }, withRound(config, 2, kind));
      return { [key]: answerFromMessages(messages).answer };
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      return { [key]: "", incidents: [`the budget ran out before the ${kind} summary was written`] };
    }
  };
}

/** Entities and relations of one section: the extractor chooses among the section's mentions; what is left is checked against the text. */
export function extractNode(agents: PaperAgents, maxMentions: number) {
  return async ({ section }: SectionTask, config: LangGraphRunnableConfig): Promise<PaperUpdate> => {
    const mentions = findMentions(section.text, maxMentions);
    const [first, ...others] = mentions;
    if (first === undefined) return { incidents: [`section ${section.id} names nothing to extract (no mentions found)`] };
    const request = `Extract the entities and relations of section ${section.id} ("${section.title}").\nAllowed mentions: ${mentions.join("; ")}\n\n${cited(section.id, section.text)}`;
    let extraction: Extraction | undefined;
    try {
      const result = await agents.extractor([first, ...others]).invoke({ messages: [new HumanMessage(request)] }, withRound(config, 1, section.id));
      extraction = result.structuredResponse;
    } catch (error) {
      if (isBudgetExceeded(error)) return { incidents: [`the budget ran out before section ${section.id} was mined for entities`] };
      if (!(error instanceof OutputValidationError)) throw error;
      return { incidents: [`extraction from section ${section.id} gave no valid answer: ${error.message.slice(0, 200)}`] };
    }
    const { entities, relations, dropped } = checkExtraction(extraction ?? { entities: [], relations: [] }, section);
    if (dropped.length) {
      const reason = `section ${section.id}: kept ${entities.length} entities and ${relations.length} relations; dropped ${dropped.length}: ${dropped.slice(0, 3).join("; ")}${dropped.length > 3 ? "; …" : ""}`;
      reportEvent(config, { type: "decision", by: "extract", next: "finish", round: 1, reason });
    }
    return { entities, relations, incidents: dropped.map((item) => `section ${section.id}: dropped ${item}`) };
  };
}

/**
 * Keeps what the section supports: entities whose names occur in its text (once each), relations
 * between two different such entities (once each). Relation ends the extractor did not list as
 * entities are added as concepts, since the relation says they matter.
 */
export function checkExtraction(extraction: Extraction, section: Section): { entities: Entity[]; relations: Relation[]; dropped: string[] } {
  const dropped: string[] = [];
  const entities = new Map<string, Entity>();
  for (const entity of extraction.entities) {
    if (!groundedIn(entity.name, section.text)) dropped.push(`entity "${entity.name}" (not in the section's text)`);
    else if (!entities.has(entity.name.toLowerCase())) entities.set(entity.name.toLowerCase(), { name: entity.name, type: entity.type, section: section.id });
  }
  const relations = new Map<string, Relation>();
  for (const { subject, predicate, object } of extraction.relations) {
    const label = `relation "${subject} | ${clip(predicate)} | ${object}"`;
    if (subject.toLowerCase() === object.toLowerCase()) dropped.push(`${label} (links an entity to itself)`);
    else if (!groundedIn(subject, section.text) || !groundedIn(object, section.text)) dropped.push(`${label} (an end is not in the section's text)`);
    else {
      const key = [subject, predicate, object].map((part) => part.trim().toLowerCase()).join("|");
      if (!relations.has(key)) relations.set(key, { subject, predicate: predicate.trim(), object, section: section.id });
      for (const end of [subject, object]) if (!entities.has(end.toLowerCase())) entities.set(end.toLowerCase(), { name: end, type: "concept", section: section.id });
    }
  }
  return { entities: [...entities.values()], relations: [...relations.values()], dropped };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** A section as a cited passage: `[s2] …`, so answers can point back to it. */
function cited(id: string, text: string): string {
  return `[${id}] ${text}`;
}
