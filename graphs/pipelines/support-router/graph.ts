import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, Send, START, StateGraph } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { ConfigError, createAgentGraph, createRagGraph, defineAgent, isBudgetExceeded, MaxStepsExceededError, observeNode, OutputValidationError, reportEvent, setStepBudget, stepBudgetOf } from "conclave";
import type { PassageIndex } from "conclave";
import { z } from "zod";
import { intentByRules, sentimentOf } from "./signals.ts";
import { IntentSchema, SupportState } from "./state.ts";
import type { IntentDecision, KbAnswer, Queue, Ticket, TicketRoute, SupportStateType } from "./state.ts";

export interface SupportRouterOptions {
  /** The knowledge base FAQ tickets are answered from (a `PassageIndex`, or a lazy one such as `corpusIndex(...)`). */
  knowledgeBase: PassageIndex | (() => Promise<PassageIndex>);
  /** Sentiment at or below which a ticket goes to the escalation queue, whatever its intent. Default -0.5. */
  escalateAt?: number;
  /** Similarity the best knowledge-base passage needs before its answer is sent. Default 0.25 (offline embeddings; tune for yours). */
  minRelevance?: number;
  /** The model for intent classification and answers (default: the run's). */
  model?: BaseChatModel;
}

const OptionsSchema = z.object({
  knowledgeBase: z.custom<SupportRouterOptions["knowledgeBase"]>((value) => typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as PassageIndex).search === "function"), "must be a PassageIndex or a function returning one (corpusIndex, ingestFolder)"),
  escalateAt: z.number().min(-1).max(1).default(-0.5),
  minRelevance: z.number().min(-1).max(1).default(0.25),
});

/** What the model answers when the keywords cannot tell a ticket's intent. */
export const IntentAnswerSchema = z.object({
  intent: IntentSchema.describe("billing: payments, invoices, refunds. technical: errors, crashes. account: sign-in, passwords, profile. faq: a how-to or policy question. other: anything else."),
  reason: z.string().describe("Why, in one sentence."),
});

/**
 * intent (keyword rules; a model for tickets they cannot place, in parallel) → sentiment → route
 * (very negative → escalation; FAQ → knowledge base; else the intent's queue) → knowledge-base
 * answers (RAG per FAQ ticket, in parallel; a weak match falls back to the department) → report.
 * Every routing choice is a `decision` event with its reason.
 */
export function createSupportRouterGraph(options: SupportRouterOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`Invalid support-router options: ${z.prettifyError(parsed.error)}.`);
  const { escalateAt, minRelevance } = parsed.data;
  const model = options.model ? { model: options.model } : {};
  const classifier = createAgentGraph(defineAgent({ name: "intent", instructions: "You classify customer-support tickets by intent.", tools: [], outputSchema: IntentAnswerSchema, maxSteps: 1, ...model }));
  const rag = createRagGraph({ index: options.knowledgeBase, k: 3, tokenBudget: 600, ...model, instructions: "You answer customer questions from the help-centre articles in the request only, citing each [id] you use. If the articles do not answer the question, say so." });

  const classify = (state: SupportStateType, config: LangGraphRunnableConfig) => {
    const intents: IntentDecision[] = [];
    for (const ticket of state.tickets) {
      const guess = intentByRules(ticket.text);
      if (guess.intent) intents.push({ ticketId: ticket.id, intent: guess.intent, by: "rules", reason: guess.reason, fallback: guess.fallback });
      reportEvent(config, { type: "decision", by: "classify", next: guess.intent ? "sentiment" : "model-classify", reason: `${ticket.id}: ${guess.intent ? `${guess.intent} (${guess.reason})` : `${guess.reason}; asking the model`}` });
    }
    return { intents };
  };

  const modelClassify = async ({ ticket, fallback, why }: { ticket: Ticket; fallback: Queue; why: string }, config: LangGraphRunnableConfig) => {
    let decision: IntentDecision;
    try {
      const answer = (await classifier.invoke({ messages: [new HumanMessage(`What is this support ticket about?\n\n[${ticket.id}] ${ticket.text.replace(/\s+/g, " ")}`)] }, config)).structuredResponse!;
      decision = { ticketId: ticket.id, intent: answer.intent, by: "model", reason: `${why}; the model says ${answer.intent}: ${answer.reason}`, fallback };
    } catch (error) {
      // Without the model's answer the ticket still gets routed: to a person in the general queue.
      if (!isBudgetExceeded(error) && !(error instanceof OutputValidationError) && !(error instanceof MaxStepsExceededError)) throw error;
      decision = { ticketId: ticket.id, intent: "other", by: "model", reason: `${why}; the model gave no intent (${error.message.slice(0, 80)})`, fallback };
    }
    return { intents: [decision] };
  };

  const sentiment = (state: SupportStateType) => ({ sentiments: Object.fromEntries(state.tickets.map((ticket) => [ticket.id, sentimentOf(ticket.text)])) });

  const route = (state: SupportStateType, config: LangGraphRunnableConfig) => {
    const routes = state.tickets.map((ticket): TicketRoute => {
      const intent = state.intents.find((entry) => entry.ticketId === ticket.id)!;
      const feeling = state.sentiments[ticket.id]!;
      const base = { ticketId: ticket.id, intent: intent.intent, sentiment: feeling.score, status: "queued" as const };
      if (feeling.score <= escalateAt) return { ...base, queue: "escalation", reason: `sentiment ${feeling.score.toFixed(2)} ≤ ${escalateAt} (${feeling.terms.join(", ")}): a person handles it first, whatever the intent (${intent.intent})` };
      if (intent.intent === "faq") return { ...base, queue: "knowledge-base", reason: `FAQ: ${intent.reason}` };
      const queue: Queue = intent.intent === "other" ? "general" : intent.intent;
      return { ...base, queue, reason: `${intent.intent} intent (${intent.by}: ${intent.reason})` };
    });
    for (const entry of routes) reportEvent(config, { type: "decision", by: "route", next: entry.queue, reason: `${entry.ticketId}: ${entry.reason}` });
    return { routes };
  };

  const answer = async ({ ticket }: { ticket: Ticket }, config: LangGraphRunnableConfig) => {
    try {
      const { retrieved, answer: text, citations } = await rag.invoke({ question: ticket.text }, config);
      const best = retrieved[0]?.score ?? -1;
      const answered = citations.length > 0 && best >= minRelevance;
      const reason = answered ? `answered from ${citations.map((citation) => citation.source).join(", ")} (best match ${best.toFixed(2)} ≥ ${minRelevance})` : citations.length ? `best match ${best.toFixed(2)} < ${minRelevance}: the knowledge base does not cover it` : "the answer cites no article";
      return { kbAnswers: [{ ticketId: ticket.id, answered, answer: text, citations, reason } satisfies KbAnswer] };
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      return { kbAnswers: [{ ticketId: ticket.id, answered: false, answer: "", citations: [], reason: "the budget is spent" } satisfies KbAnswer] };
    }
  };

  const report = (state: SupportStateType, config: LangGraphRunnableConfig) => {
    const routes = state.routes.map((entry): TicketRoute => {
      const kb = state.kbAnswers.find((item) => item.ticketId === entry.ticketId);
      if (entry.queue !== "knowledge-base" || !kb) return entry;
      if (kb.answered) return { ...entry, status: "auto-answered", reason: `${entry.reason}; ${kb.reason}`, answer: kb.answer, citations: kb.citations };
      const fallback = state.intents.find((item) => item.ticketId === entry.ticketId)!.fallback;
      reportEvent(config, { type: "decision", by: "report", next: fallback, reason: `${entry.ticketId}: no knowledge-base answer (${kb.reason}); queued for ${fallback}` });
      return { ...entry, queue: fallback, reason: `${entry.reason}; ${kb.reason}, so it goes to ${fallback}` };
    });
    return { routes };
  };

  const unclassified = (state: SupportStateType) => {
    const open = state.tickets.filter((ticket) => !state.intents.some((entry) => entry.ticketId === ticket.id));
    return open.length ? open.map((ticket) => { const guess = intentByRules(ticket.text); return new Send("model-classify", { ticket, fallback: guess.fallback, why: guess.reason }); }) : "sentiment";
  };
  const faqs = (state: SupportStateType) => {
    const open = state.routes.filter((entry) => entry.queue === "knowledge-base").map((entry) => state.tickets.find((ticket) => ticket.id === entry.ticketId)!);
    return open.length ? open.map((ticket) => new Send("answer", { ticket })) : "report";
  };
  type Node = (state: SupportStateType, config: LangGraphRunnableConfig) => Promise<Partial<SupportStateType>>;

  const graph = new StateGraph(SupportState)
    .addNode("classify", observeNode("classify", classify))
    // Send hands these two nodes one ticket each, not the whole state.
    .addNode("model-classify", observeNode("model-classify", modelClassify) as unknown as Node)
    .addNode("sentiment", observeNode("sentiment", sentiment))
    .addNode("route", observeNode("route", route))
    .addNode("answer", observeNode("answer", answer) as unknown as Node)
    .addNode("report", observeNode("report", report))
    .addEdge(START, "classify")
    .addConditionalEdges("classify", unclassified, ["model-classify", "sentiment"])
    .addEdge("model-classify", "sentiment")
    .addEdge("sentiment", "route")
    .addConditionalEdges("route", faqs, ["answer", "report"])
    .addEdge("answer", "report")
    .addEdge("report", END)
    .compile({ name: "support-router" });
  return setStepBudget(graph, Math.max(stepBudgetOf(classifier) ?? 0, stepBudgetOf(rag) ?? 0, 9));
}
