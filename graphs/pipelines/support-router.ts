import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileGraph, corpusIndex, createEmbeddings, defineGraph, UsageError } from "conclave";
import type { GraphBuildContext } from "conclave";
import { z } from "zod";
import { createSupportRouterGraph } from "./support-router/graph.ts";
import { TicketSchema } from "./support-router/state.ts";
import type { Ticket } from "./support-router/state.ts";

export { createSupportRouterGraph, IntentAnswerSchema } from "./support-router/graph.ts";
export type { SupportRouterOptions } from "./support-router/graph.ts";
export { DEPARTMENT_KEYWORDS, FAQ_QUESTION, SENTIMENT_LEXICON, intentByRules, sentimentOf } from "./support-router/signals.ts";
export { SupportState } from "./support-router/state.ts";
export type { Intent, Queue, Ticket, TicketRoute } from "./support-router/state.ts";

/** The bundled help-centre articles FAQ tickets are answered from. */
export const SUPPORT_KB = fileURLToPath(new URL("./samples/support-kb/", import.meta.url));

/** The bundled sample: a handful of tickets, from a password question to a furious customer. */
export const SAMPLE_TICKETS = readFileSync(new URL("./samples/support-tickets.json", import.meta.url), "utf8");

const Tickets = z.array(z.union([z.string(), TicketSchema.partial({ id: true })]));

/** A task is a JSON array of tickets (`{ id?, text, customer? }` or plain strings); any other text is one ticket. */
export function ticketsFrom(task: string): Ticket[] {
  const trimmed = task.trim();
  if (!trimmed.startsWith("[")) return [{ id: "t1", text: task }];
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    throw new UsageError(`The task looks like a JSON array of tickets but does not parse (${(error as Error).message}). Pass valid JSON, e.g. '[{"id":"t1","text":"…"}]', or plain text for one ticket.`);
  }
  const parsed = Tickets.safeParse(json);
  if (!parsed.success) throw new UsageError(`The tickets must be strings or { id?, text, customer? } objects: ${z.prettifyError(parsed.error)}.`);
  return parsed.data.map((item, index) => (typeof item === "string" ? { id: `t${index + 1}`, text: item } : { ...item, id: item.id ?? `t${index + 1}` }));
}

/** The router over the bundled knowledge base, its index cached under `.conclave/index`. */
export function createSupportRouter(context: GraphBuildContext) {
  const { embeddings } = createEmbeddings(context.config, { cwd: context.cwd });
  return createSupportRouterGraph({ knowledgeBase: corpusIndex({ folder: SUPPORT_KB, embeddings, cacheDir: join(context.cwd, ".conclave", "index") }) });
}

/** `conclave run --graph support-router` routes the sample tickets; pass a JSON list of tickets, or one ticket's text. */
export const example = defineGraph({
  name: "support-router",
  description: "Customer-support router: intent and sentiment, queues for billing / technical / account, escalation for angry customers, knowledge-base answers for FAQs",
  sample: SAMPLE_TICKETS,
  build: (context) => createSupportRouter(context),
  input: (task) => ({ tickets: ticketsFrom(task) }),
  output: (state) => ({
    answer: state.routes.map((route) => `${route.ticketId} → ${route.queue}${route.status === "auto-answered" ? ` (auto-answered: ${route.answer})` : ""}`).join("\n"),
    citations: state.routes.flatMap((route) => route.citations ?? []),
    details: { routes: state.routes, intents: state.intents },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
