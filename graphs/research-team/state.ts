import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";

/** One sub-question of the coordinator's plan. */
export const PlanItemSchema = z.object({ id: z.string(), question: z.string() });

/** A fact research found: the claim, the passage that supports it and where it came from. */
export const FindingSchema = z.object({
  id: z.string(),
  claim: z.string(),
  /** The passage (or tool output) the claim was drawn from. */
  evidence: z.string(),
  /** `doc#n` for a corpus passage, `file:path` for a file, `tool:name` for a tool's own result. */
  sourceId: z.string(),
  agent: z.string(),
  round: z.number().int(),
  subQuestion: z.string(),
});

/** A draft answer with inline `[source]` citations. */
export const DraftSchema = z.object({
  round: z.number().int(),
  text: z.string(),
  /** Ids of the previous critique's items this draft resolves (the claim is gone or now supported). */
  addressed: z.array(z.string()),
});

/** The verdict on one claim of a draft. */
export const CritiqueItemSchema = z.object({
  id: z.string(),
  claim: z.string(),
  sources: z.array(z.string()),
  verdict: z.enum(["supported", "unsupported", "contradicted"]),
  problem: z.string(),
  suggestion: z.string(),
  round: z.number().int(),
});

/** The verification of one draft: per-claim verdicts, an overall verdict and a score. */
export const CritiqueSchema = z.object({
  round: z.number().int(),
  items: z.array(CritiqueItemSchema),
  overall: z.enum(["approve", "revise"]),
  /** Share of claims supported, in [0, 1]. */
  score: z.number().min(0).max(1),
});

export const TerminationSchema = z.enum(["approved", "max-rounds", "no-progress", "budget", "no-findings"]);

export const FinalAnswerSchema = z.object({
  answer: z.string(),
  citations: z.array(z.object({ source: z.string(), text: z.string() })),
  /** Which draft round the answer rests on, and its critique's score. */
  basedOnRound: z.number().int(),
  score: z.number(),
  /** True only when every claim in the answer was verified as supported. */
  verified: z.boolean(),
  /** A human's decision on the answer, when the run asked for one (`--approve-answer`). */
  review: z.object({ decision: z.enum(["approved", "edited", "rejected"]), reason: z.string().optional() }).optional(),
});

const UsageSchema = z.record(z.string(), z.object({ modelCalls: z.number(), inputTokens: z.number(), outputTokens: z.number(), totalTokens: z.number() }));

function appended<T>(schema: z.ZodType<T>) {
  return new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });
}

/** The team's shared state. History (findings, drafts, critiques, verdicts) is appended, never overwritten. */
export const TeamState = new StateSchema({
  task: z.string(),
  plan: z.array(PlanItemSchema).default(() => []),
  findings: appended(FindingSchema),
  /** Citations research made that named no source it had seen; kept to show they were dropped. */
  rejectedCitations: appended(z.string()),
  drafts: appended(DraftSchema),
  /** Per-claim verdicts as verification returns them (one task per claim); `critiques` aggregates them per round. */
  verdicts: appended(CritiqueItemSchema),
  critiques: appended(CritiqueSchema),
  round: z.number().int().default(0),
  /** Things that went wrong without stopping the run (step limits hit, citations dropped), for the record and progress. */
  incidents: appended(z.string()),
  final: FinalAnswerSchema.optional(),
  usage: UsageSchema.default(() => ({})),
  /** Why the run ended; parallel tasks may all report a spent budget, so the first reason given stands. */
  terminationReason: new ReducedValue(TerminationSchema.optional(), { inputSchema: TerminationSchema.optional(), reducer: (current, next) => current ?? next }),
});

export type TeamStateType = typeof TeamState.State;
export type TeamUpdate = typeof TeamState.Update;
export type Finding = z.infer<typeof FindingSchema>;
export type Draft = z.infer<typeof DraftSchema>;
export type CritiqueItem = z.infer<typeof CritiqueItemSchema>;
export type Critique = z.infer<typeof CritiqueSchema>;
export type Termination = z.infer<typeof TerminationSchema>;
