import { readFileSync } from "node:fs";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { END, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { compileGraph, createAgentGraph, defineAgent, defineGraph, extractCitations, fitToWindow, observeNode } from "conclave";
import type { WindowFit } from "conclave";
import { z } from "zod";

/** A long planning conversation (about 860 tokens) whose early turns hold the facts asked about later. */
export const SAMPLE_CONVERSATION = new URL("./samples/knowledge-conversation.json", import.meta.url);

const Turn = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().min(1) });

/** The sample conversation as LangChain messages. */
export function sampleConversation(): BaseMessage[] {
  const turns = z.array(Turn).parse(JSON.parse(readFileSync(SAMPLE_CONVERSATION, "utf8")));
  return turns.map(({ role, content }) => (role === "system" ? new SystemMessage(content) : role === "user" ? new HumanMessage(content) : new AIMessage(content)));
}

const State = new StateSchema({
  messages: MessagesValue,
  /** What fitting did: tokens before and after, messages dropped, whether they were summarised. */
  window: z.custom<WindowFit>().optional(),
});

export interface WindowedChatOptions {
  /** Most tokens of conversation the assistant is sent (default 300). */
  maxTokens?: number;
  /** Of those, tokens kept for the summary of the dropped turns (default 100). */
  summaryTokens?: number;
}

/**
 * A chat that stays within a small context window: `fit` keeps the system prompt and the latest
 * turns that fit, and summarises the older ones (a tree of summaries, three turns per call,
 * focused on the new question) into one message; `answer` replies from what is left.
 */
export function createWindowedChat(options: WindowedChatOptions = {}) {
  const assistant = createAgentGraph(defineAgent({ name: "assistant", instructions: "Answer the user's latest question from the conversation. When you use the summary of the earlier conversation, cite it as [conversation-summary].", tools: [], maxSteps: 1 }));
  const answer = async (state: typeof State.State, config: LangGraphRunnableConfig) => {
    const result = await assistant.invoke({ messages: state.messages }, config);
    return { messages: [result.messages.at(-1)!] };
  };
  return new StateGraph(State)
    .addNode("fit", fitToWindow({ maxTokens: options.maxTokens ?? 300, summarize: { fanIn: 3, maxTokens: options.summaryTokens ?? 100 }, record: "window" }))
    .addNode("answer", observeNode("answer", answer))
    .addEdge(START, "fit")
    .addEdge("fit", "answer")
    .addEdge("answer", END)
    .compile({ name: "context-window" });
}

/** `conclave run --graph context-window "question"`: asks the question at the end of the sample conversation. */
export const example = defineGraph({
  name: "context-window",
  description: "Context-window management: a long conversation trimmed to 300 tokens, the dropped turns summarised hierarchically, then answered",
  sample: "Who has the shed key and what is the watering rota?",
  build: () => createWindowedChat(),
  input: (task) => ({ messages: [...sampleConversation(), new HumanMessage(task)] }),
  output: (state) => {
    const answer = state.messages.at(-1)?.text ?? "";
    return { answer, citations: extractCitations(answer), details: { ...state.window, messagesSent: state.messages.length - 1 } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
