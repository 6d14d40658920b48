import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";

/** One section of the paper, as it is summarised and mined: `s1`, `s2`, … in reading order (`s3.2` for the second part of a long one). */
export const SectionSchema = z.object({ id: z.string(), title: z.string(), text: z.string() });

/** A section left out of summarisation, and why (a reference list, an empty heading). */
export const SkippedSectionSchema = z.object({ title: z.string(), reason: z.string() });

export const SectionSummarySchema = z.object({ section: z.string(), title: z.string(), summary: z.string() });

/** What kind of thing an entity is. "concept" first: it is the least wrong default. */
export const EntityTypeSchema = z.enum(["concept", "method", "model", "system", "dataset", "metric", "task", "organisation", "person", "venue"]);

/** An entity named in the paper, typed, and tied to the section whose text names it. */
export const EntitySchema = z.object({
  name: z.string().describe("The entity's name exactly as the section writes it."),
  type: EntityTypeSchema,
  section: z.string().describe("The id of the section it was found in."),
});

/** A subject–predicate–object relation between two entities, stated in one section. */
export const RelationSchema = z.object({
  subject: z.string(),
  predicate: z.string().describe("A short verb phrase: 'outperforms', 'is evaluated on', 'was introduced by'."),
  object: z.string(),
  section: z.string(),
});

export type Section = z.infer<typeof SectionSchema>;
export type SkippedSection = z.infer<typeof SkippedSectionSchema>;
export type SectionSummary = z.infer<typeof SectionSummarySchema>;
export type Entity = z.infer<typeof EntitySchema>;
export type Relation = z.infer<typeof RelationSchema>;

function appended<T>(schema: z.ZodType<T>) {
  return new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });
}

/** The pipeline's state. Per-section results are appended by parallel branches, in whatever order they finish. */
export const PaperState = new StateSchema({
  /** The paper's markdown, or the path of a markdown file. */
  source: z.string(),
  title: z.string().default(""),
  sections: z.array(SectionSchema).default(() => []),
  skipped: z.array(SkippedSectionSchema).default(() => []),
  summaries: appended(SectionSummarySchema),
  executiveSummary: z.string().default(""),
  technicalSummary: z.string().default(""),
  entities: appended(EntitySchema),
  relations: appended(RelationSchema),
  /** What was dropped or went wrong without stopping the run, for the record. */
  incidents: appended(z.string()),
});

export type PaperStateType = typeof PaperState.State;
export type PaperUpdate = typeof PaperState.Update;
