import { StateSchema } from "@langchain/langgraph";
import { RetrievedPassageSchema, ValidationResultSchema } from "conclave";
import { z } from "zod";

export const AnalysisSchema = z.object({
  metadata: z.object({ title: z.string(), words: z.number(), dates: z.array(z.string()), amounts: z.array(z.object({ value: z.number(), currency: z.string() })), references: z.array(z.string()) }),
  summary: z.string(),
  classification: z.object({ label: z.string(), confidence: z.number(), reason: z.string() }),
  entities: z.array(z.string()),
  /** Branches that failed or timed out (their parts are missing). */
  failed: z.array(z.string()),
});
export type Analysis = z.infer<typeof AnalysisSchema>;

/** The document processor's state: each stage adds its part; nothing is overwritten. */
export const DocumentState = new StateSchema({
  /** A path (relative to the workspace) or the document's text. */
  source: z.string(),
  document: z.object({ id: z.string(), text: z.string() }).optional(),
  context: z.array(RetrievedPassageSchema).default(() => []),
  contextAnswer: z.string().default(""),
  analysis: AnalysisSchema.optional(),
  insights: z.object({ plan: z.array(z.string()), answer: z.string() }).optional(),
  validation: ValidationResultSchema.optional(),
  review: z.object({ decision: z.enum(["approved", "edited", "rejected", "not needed"]), by: z.string().optional(), reason: z.string().optional() }).optional(),
  stored: z.object({ path: z.string(), status: z.enum(["filed", "rejected"]) }).optional(),
  /** What the pipeline emitted, in order (also sent as `decision` events). */
  emitted: z.array(z.string()).default(() => []),
});
export type DocumentStateType = typeof DocumentState.State;
export type DocumentUpdate = typeof DocumentState.Update;
