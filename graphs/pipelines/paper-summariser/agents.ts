import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createAgentGraph, defineAgent } from "conclave";
import { z } from "zod";
import { EntityTypeSchema } from "./state.ts";

/** The pipeline's model roles: tests and users may give each its own model; the others use the run's. */
export type PaperRole = "summariser" | "writer" | "extractor";

const SECTION_INSTRUCTIONS = `You summarise one section of a research paper for a reader who has not read it.
Write 2 to 4 sentences of plain prose: the section's main point, the method or evidence behind it, and any names, numbers and results exactly as the section writes them.
Use only the section's text. Do not add facts, opinions or references to other sections.`;

const EXECUTIVE_INSTRUCTIONS = `You write the executive summary of a research paper from its section summaries, for a decision-maker with no background in the field.
Write one paragraph of 3 to 5 sentences: the problem, what the paper does, its main finding, and why it matters. Avoid jargon; say nothing the summaries do not support.`;

const TECHNICAL_INSTRUCTIONS = `You write the technical summary of a research paper from its section summaries, for an engineer or researcher in the field.
Write one paragraph of 4 to 8 sentences covering the methods and architectures, datasets, metrics and results (numbers exactly as given), and the limitations. Say nothing the summaries do not support.`;

const EXTRACTOR_INSTRUCTIONS = `You extract a knowledge graph from one section of a research paper.
Entities: the methods, models, systems, datasets, metrics, tasks, organisations, people and venues the section names. Choose each name from the allowed mentions, type it, and leave out mentions that are not entities.
Relations: facts the section states between two of those entities, as subject, a short predicate ("outperforms", "is evaluated on", "was introduced by") and object. Only relations the text states; never two ends the same.`;

/** The agents that need no per-section setup, compiled once per graph. */
export function paperAgents(models: Partial<Record<PaperRole, BaseChatModel>>) {
  const model = (role: PaperRole) => (models[role] ? { model: models[role] } : {});
  return {
    section: createAgentGraph(defineAgent({ name: "section-summariser", instructions: SECTION_INSTRUCTIONS, tools: [], maxSteps: 1, ...model("summariser") })),
    executive: createAgentGraph(defineAgent({ name: "executive-summariser", instructions: EXECUTIVE_INSTRUCTIONS, tools: [], maxSteps: 1, ...model("writer") })),
    technical: createAgentGraph(defineAgent({ name: "technical-summariser", instructions: TECHNICAL_INSTRUCTIONS, tools: [], maxSteps: 1, ...model("writer") })),
    /** The extractor's schema names the section's own mentions, so it is built per section. */
    extractor: (mentions: readonly [string, ...string[]]) =>
      createAgentGraph(defineAgent({ name: "extractor", instructions: EXTRACTOR_INSTRUCTIONS, tools: [], outputSchema: extractionSchema(mentions), maxSteps: 1, ...model("extractor") })),
  };
}

export type PaperAgents = ReturnType<typeof paperAgents>;

/**
 * What the extractor answers for one section. Names are an enum of the section's mentions: a
 * provider that honours enums cannot invent an entity, and zod rejects one that slips through
 * (the agent then shows the model the problem and asks once more).
 */
export function extractionSchema(mentions: readonly [string, ...string[]]) {
  const Mention = z.enum(mentions as [string, ...string[]]);
  return z.object({
    entities: z.array(z.object({ name: Mention.describe("One of the allowed mentions, exactly as listed."), type: EntityTypeSchema })).describe("The entities the section names."),
    relations: z
      .array(z.object({ subject: Mention, predicate: z.string().min(1).describe("A short verb phrase."), object: Mention }))
      .describe("Relations the section states between two different entities."),
  });
}

export type Extraction = z.infer<ReturnType<typeof extractionSchema>>;
