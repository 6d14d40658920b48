import { readFileSync } from "node:fs";
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { compileGraph, createAgentGraph, createChatModel, createFeedbackStore, defineAgent, defineGraph, extractCitations, observeNode, reportEvent } from "conclave";
import type { FeedbackAggregate, FeedbackStore, NewFeedback, RouteCandidate } from "conclave";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";

const POLICY = readFileSync(new URL("./samples/governance-refund-policy.md", import.meta.url), "utf8").trim();
/** Ratings users gave earlier answers (1–5 stars), with the model that wrote each. */
const SAMPLE_RATINGS = JSON.parse(readFileSync(new URL("./samples/governance-feedback.json", import.meta.url), "utf8")) as NewFeedback[];

export const FeedbackLoopState = new StateSchema({
  question: z.string(),
  model: z.string().optional(),
  reason: z.string().optional(),
  ratings: z.custom<FeedbackAggregate[]>().optional(),
  answer: z.string().optional(),
});
type State = typeof FeedbackLoopState.State;

const INSTRUCTIONS = "You answer customers' refund questions from the policy passages only, citing each passage you use by its [id].";

/**
 * route → answer. The router (`routeModel`, via `feedback.preferredModel`) would take the cheaper
 * model; users' ratings rule it out once they show it is worse, and the careful one answers.
 * Rate each run with `feedback.rate({ runId, model, rating })` to close the loop.
 */
export function createFeedbackRouting(options: { feedback: FeedbackStore; models: { fast: BaseChatModel; careful: BaseChatModel } }) {
  const candidates: RouteCandidate[] = [
    { name: "fast", model: options.models.fast, capability: 1, costPerMillion: 0.15, latencyMs: 400 },
    { name: "careful", model: options.models.careful, capability: 1, costPerMillion: 2.5, latencyMs: 1_500 },
  ];
  const writers = new Map(candidates.map((candidate) => [candidate.name, createAgentGraph(defineAgent({ name: candidate.name, model: candidate.model, instructions: INSTRUCTIONS, tools: [], maxSteps: 1 }))]));

  const route = (state: State, config: LangGraphRunnableConfig) => {
    const decision = options.feedback.preferredModel(state.question, { candidates });
    reportEvent(config, { type: "decision", by: "feedback-router", next: decision.candidate.name, reason: decision.reason });
    return { model: decision.candidate.name, reason: decision.reason, ratings: decision.ratings };
  };
  const answer = async (state: State, config: LangGraphRunnableConfig) => {
    const result = await writers.get(state.model!)!.invoke({ messages: [new HumanMessage(`${state.question}\n\nRefund policy:\n${POLICY}`)] }, config);
    return { answer: result.messages.at(-1)?.text.trim() ?? "" };
  };
  return new StateGraph(FeedbackLoopState)
    .addNode("route", observeNode("route", route))
    .addNode("respond", observeNode("respond", answer))
    .addEdge(START, "route")
    .addEdge("route", "respond")
    .addEdge("respond", END)
    .compile({ name: "feedback-loop" });
}

/** A store seeded with the sample ratings (in production: `createFeedbackStore({ path })`, rated from your UI). */
export function sampleFeedback(): FeedbackStore {
  const feedback = createFeedbackStore();
  for (const rating of SAMPLE_RATINGS) feedback.rate(rating);
  return feedback;
}

/** `conclave run --graph feedback-loop "QUESTION"`: the users' ratings pick the model that answers. */
export const example = defineGraph({
  name: "feedback-loop",
  description: "Feedback loop: ratings per run and model, aggregated with intervals, rule the poorly rated model out of the router's choice",
  sample: "How long do I have to return an order for a full refund?",
  build: (context) => {
    // Both candidates are the configured model here, so the example runs anywhere; in production they differ.
    const { model } = createChatModel(context.config.model);
    return createFeedbackRouting({ feedback: sampleFeedback(), models: { fast: model, careful: model } });
  },
  input: (task) => ({ question: task }),
  output: (state) => {
    const ratings = (state.ratings ?? []).map((rated) => `${rated.name} ${rated.mean.toFixed(2)}★ (${rated.count} ratings)`).join(", ");
    return {
      answer: `${state.answer ?? ""}\n\n(answered by "${state.model}": ratings ${ratings || "none yet"})`,
      citations: extractCitations(state.answer ?? ""),
      details: { model: state.model ?? null, reason: state.reason ?? null, ratings: state.ratings ?? [] },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
