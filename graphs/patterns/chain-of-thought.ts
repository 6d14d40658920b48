import { readFileSync } from "node:fs";
import { compileGraph, createChainOfThoughtGraph, defineGraph } from "conclave";
import { calculator } from "../../tools/index.ts";

/** Plan → one calculator-equipped model call per step, each reading the earlier results → synthesis. */
export function createWordProblemSolver(options: { maxSteps?: number } = {}) {
  return createChainOfThoughtGraph({
    name: "chain-of-thought",
    maxSteps: options.maxSteps ?? 4,
    tools: [calculator],
    instructions: "Use the calculator for every calculation and quote its results exactly.",
  });
}

/** `conclave run --graph chain-of-thought "PROBLEM"`: a word problem solved step by step. */
export const example = defineGraph({
  name: "chain-of-thought",
  description: "Chain of thought: the model plans the steps, carries out each with the calculator while reading the earlier results, then writes the final answer",
  sample: readFileSync(new URL("./samples/flow-chain-of-thought.txt", import.meta.url), "utf8").trim(),
  build: () => createWordProblemSolver(),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.answer ?? "",
    citations: [],
    details: { plan: state.plan, steps: state.steps.map(({ step, output, modelCalls }) => ({ step, output, modelCalls })), stopped: state.stopped ?? null },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
