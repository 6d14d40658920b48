import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";

/** A support ticket. */
export const TicketSchema = z.object({ id: z.string(), text: z.string(), customer: z.string().optional() });
export type Ticket = z.infer<typeof TicketSchema>;

export const IntentSchema = z.enum(["other", "billing", "technical", "account", "faq"]);
export type Intent = z.infer<typeof IntentSchema>;

export const QueueSchema = z.enum(["knowledge-base", "billing", "technical", "account", "escalation", "general"]);
export type Queue = z.infer<typeof QueueSchema>;

/** What classification found: the intent, who decided it and why, and the department to fall back on. */
export const IntentDecisionSchema = z.object({
  ticketId: z.string(),
  intent: IntentSchema,
  by: z.enum(["rules", "model"]),
  reason: z.string(),
  /** For an FAQ the knowledge base cannot answer: the department its keywords point to. */
  fallback: QueueSchema,
});
export type IntentDecision = z.infer<typeof IntentDecisionSchema>;

/** Where a ticket went, and why; an auto-answered FAQ carries its cited answer. */
export const TicketRouteSchema = z.object({
  ticketId: z.string(),
  intent: IntentSchema,
  /** -1 (very negative) .. 1 (very positive). */
  sentiment: z.number(),
  queue: QueueSchema,
  status: z.enum(["auto-answered", "queued"]),
  reason: z.string(),
  answer: z.string().optional(),
  citations: z.array(z.object({ source: z.string(), text: z.string() })).optional(),
});
export type TicketRoute = z.infer<typeof TicketRouteSchema>;

/** A knowledge-base attempt for one FAQ ticket. */
export const KbAnswerSchema = z.object({ ticketId: z.string(), answered: z.boolean(), answer: z.string(), citations: TicketRouteSchema.shape.citations.unwrap(), reason: z.string() });
export type KbAnswer = z.infer<typeof KbAnswerSchema>;

const appended = <T>(schema: z.ZodType<T>) => new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });

/** The router's state: tickets in; intents, sentiments, routes and knowledge-base answers appended as stages decide. */
export const SupportState = new StateSchema({
  tickets: z.array(TicketSchema),
  intents: appended(IntentDecisionSchema),
  sentiments: z.record(z.string(), z.object({ score: z.number(), terms: z.array(z.string()) })).default(() => ({})),
  routes: z.array(TicketRouteSchema).default(() => []),
  kbAnswers: appended(KbAnswerSchema),
});
export type SupportStateType = typeof SupportState.State;
