import { HumanMessage } from "@langchain/core/messages";
import { answerFromMessages, compileGraph, createAgentGraph, defineGraph } from "conclave";
import { createResearchAgent } from "../agents/research/agent.ts";
import { researchTools } from "../tools/index.ts";

/** One research agent with the calculator, retrieval over the corpus and file reading. */
export const research = defineGraph({
  name: "research",
  description: "A single research agent (ReAct) with calculator, retrieve and read_file tools",
  sample: "What is 17 * 23 + 4?",
  build: (context) => createAgentGraph(createResearchAgent({ tools: researchTools(context) })),
  input: (task) => ({ messages: [new HumanMessage(task)] }),
  output: (state) => answerFromMessages(state.messages),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(research);
