import { readFileSync } from "node:fs";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { OfflineChatModel, compileGraph, createCascadeGraph, createChatModel, defineGraph, extractCitations } from "conclave";
import type { GraphBuildContext } from "conclave";

/**
 * Progressive enhancement: the free, extractive offline model answers first, and its confidence is
 * how much of the question its quoted sentences cover; below 0.7 the task escalates to the
 * configured model (the offline one too when none is configured), and if that is unsure as well
 * the most confident answer is returned for review.
 */
export function createCascadeExample(context: GraphBuildContext, models: { cheap?: BaseChatModel; strong?: BaseChatModel } = {}) {
  return createCascadeGraph({
    tiers: [
      { name: "extractive", model: models.cheap ?? new OfflineChatModel({}) },
      { name: "general", model: models.strong ?? createChatModel(context.config.model).model },
    ],
    threshold: 0.7,
  });
}

/** `conclave run --graph cascade "question + [id] notes"`: cheap tier first, escalating only when it is unsure. */
export const example = defineGraph({
  name: "cascade",
  description: "Model cascade: a cheap tier answers with a confidence; below 0.7 the task escalates to the next tier, and an unsure last tier marks it for review",
  sample: readFileSync(new URL("./samples/quality-cascade.md", import.meta.url), "utf8").trim(),
  build: (context) => createCascadeExample(context),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: extractCitations(state.final?.answer ?? ""),
    details: {
      tier: state.final?.tier ?? null,
      confidence: state.final?.confidence ?? null,
      status: state.final?.status ?? null,
      attempts: state.attempts.map((attempt) => ({ tier: attempt.tier, confidence: attempt.confidence, ...(attempt.error ? { error: attempt.error } : {}) })),
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
