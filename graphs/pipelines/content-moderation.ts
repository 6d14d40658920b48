import { readFileSync } from "node:fs";
import { compileGraph, defineGraph, UsageError } from "conclave";
import { z } from "zod";
import { createModerationPipeline } from "./content-moderation/graph.ts";
import { ChatMessageSchema } from "./content-moderation/state.ts";
import type { ChatMessage } from "./content-moderation/state.ts";

export { createModerationPipeline, ModelReviewSchema } from "./content-moderation/graph.ts";
export type { ModerationOptions } from "./content-moderation/graph.ts";
export { DEFAULT_LEXICON, DEFAULT_RULES, matchRules, scoreText } from "./content-moderation/rules.ts";
export type { ModerationRule } from "./content-moderation/rules.ts";
export { ModerationState } from "./content-moderation/state.ts";
export type { ChatMessage, ModerationDecision, ModerationResult } from "./content-moderation/state.ts";

/** The bundled sample: a handful of chat messages, from thanks to threats. */
export const SAMPLE_MESSAGES = readFileSync(new URL("./samples/moderation-messages.json", import.meta.url), "utf8");

const Messages = z.array(z.union([z.string(), ChatMessageSchema.partial({ id: true })]));

/** A task is a JSON array of messages (`{ id?, text, author? }` or plain strings); any other text is one message. */
export function messagesFrom(task: string): ChatMessage[] {
  const trimmed = task.trim();
  if (!trimmed.startsWith("[")) return [{ id: "m1", text: task }];
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    throw new UsageError(`The task looks like a JSON array of messages but does not parse (${(error as Error).message}). Pass valid JSON, e.g. '[{"id":"m1","text":"hello"}]', or plain text for one message.`);
  }
  const parsed = Messages.safeParse(json);
  if (!parsed.success) throw new UsageError(`The messages must be strings or { id?, text, author? } objects: ${z.prettifyError(parsed.error)}.`);
  return parsed.data.map((item, index) => (typeof item === "string" ? { id: `m${index + 1}`, text: item } : { ...item, id: item.id ?? `m${index + 1}` }));
}

/**
 * `conclave run --graph content-moderation` moderates the sample; messages nobody could settle are
 * held and listed. With `--approve-answer` the run pauses for a person on each of them instead
 * (`conclave pending`, `approve`, `reject`), and the audit log records every decision.
 */
export const example = defineGraph({
  name: "content-moderation",
  description: "Content moderation: rules → keyword classifier → model review of the uncertain → human review of what is left, every decision audited",
  sample: SAMPLE_MESSAGES,
  build: () => createModerationPipeline(),
  input: (task) => ({ messages: messagesFrom(task) }),
  output: (state) => {
    const held = state.results.filter((result) => result.verdict === "needs-review");
    const count = (verdict: string) => state.results.filter((result) => result.verdict === verdict).length;
    const lines = state.results.map((result) => `${result.messageId}: ${result.verdict} (${result.stage}: ${result.reason})`);
    return {
      answer: [`${state.results.length} messages: ${count("allow")} allowed, ${count("block")} blocked, ${held.length} held for human review${held.length ? ` (${held.map((result) => result.messageId).join(", ")})` : ""}.`, ...lines].join("\n"),
      citations: [],
      details: { results: state.results, needsReview: held.map((result) => result.messageId), decisions: state.decisions },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
