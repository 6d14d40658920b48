import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";

/** A message to moderate. */
export const ChatMessageSchema = z.object({ id: z.string(), text: z.string(), author: z.string().optional() });
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const ModerationStageSchema = z.enum(["rules", "classifier", "model-review", "human-review"]);
export type ModerationStage = z.infer<typeof ModerationStageSchema>;

/**
 * One entry of the audit trail: what a stage decided about a message and why. "uncertain" passes
 * the message to the next stage; "held" means it waits for a person (nobody was asked in this run).
 */
export const ModerationDecisionSchema = z.object({
  messageId: z.string(),
  stage: ModerationStageSchema,
  outcome: z.enum(["allow", "block", "uncertain", "held"]),
  reason: z.string(),
  /** The classifier's score or the model's confidence, 0..1. */
  score: z.number().optional(),
  /** Who decided, for human review. */
  actor: z.string().optional(),
  /** Milliseconds since the epoch. */
  at: z.number(),
});
export type ModerationDecision = z.infer<typeof ModerationDecisionSchema>;

/** Where each message ended up, and which stage decided it. */
export const ModerationResultSchema = z.object({
  messageId: z.string(),
  verdict: z.enum(["allow", "block", "needs-review"]),
  stage: ModerationStageSchema,
  reason: z.string(),
});
export type ModerationResult = z.infer<typeof ModerationResultSchema>;

/** The pipeline's state: the messages, the append-only audit trail, and the results. */
export const ModerationState = new StateSchema({
  messages: z.array(ChatMessageSchema),
  decisions: new ReducedValue(z.array(ModerationDecisionSchema).default(() => []), { inputSchema: z.array(ModerationDecisionSchema), reducer: (current: ModerationDecision[], next: ModerationDecision[]) => [...current, ...next] }),
  results: z.array(ModerationResultSchema).default(() => []),
});
export type ModerationStateType = typeof ModerationState.State;

/** Messages whose latest decision is "uncertain": the ones the next stage looks at. */
export function undecided(state: ModerationStateType): ChatMessage[] {
  return state.messages.filter((message) => state.decisions.findLast((decision) => decision.messageId === message.id)?.outcome === "uncertain");
}
