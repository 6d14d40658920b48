import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { answerFromMessages, compileGraph, createReActGraph, defineGraph } from "conclave";
import { calculator } from "../../tools/index.ts";

/** ReAct with the calculator: the model reasons, calls the tool for the arithmetic, reads the result and answers. */
export function createCalculatorReAct() {
  return createReActGraph({
    name: "calculating",
    instructions: "Solve the problem step by step. Use the calculator for every calculation, read its result, then answer with the number and what it counts.",
    tools: [calculator],
    maxSteps: 4,
  });
}

/** `conclave run --graph react "question"`: a word problem worked out with the calculator tool. */
export const example = defineGraph({
  name: "react",
  description: "ReAct (reason + act): the agent loop calls the calculator, reads the observation and answers, within maxSteps",
  sample: "A workshop orders 7 crates, each with 12 boxes of 24 screws. How many screws is that? Work out 7 * 12 * 24.",
  build: () => createCalculatorReAct(),
  input: (task) => ({ messages: [new HumanMessage(task)] }),
  output: (state) => {
    const calls = state.messages.flatMap((message) => (AIMessage.isInstance(message) ? (message.tool_calls ?? []) : []));
    return { ...answerFromMessages(state.messages), details: { steps: state.steps, toolCalls: calls.map((call) => `${call.name}(${JSON.stringify(call.args)})`) } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
