import { AIMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { extractCitations } from "./citations.ts";
import type { GraphAnswer } from "./define-graph.ts";

/** The answer of a message-based graph: the last AI message's text and the sources it cites. */
export function answerFromMessages(messages: readonly BaseMessage[]): GraphAnswer {
  const last = [...messages].reverse().find((message) => AIMessage.isInstance(message) && !message.tool_calls?.length);
  const answer = last?.text.trim() ?? "";
  return { answer, citations: extractCitations(answer) };
}
