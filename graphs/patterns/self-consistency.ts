import { compileGraph, createSelfConsistencyGraph, defineAgent, defineGraph, effectiveProvider } from "conclave";
import type { GraphBuildContext } from "conclave";
import { calculator } from "../../tools/index.ts";

/** The same question asked five ways: different framings lead a sampling model down different reasoning paths. */
export const PROMPTS = [
  "{question}",
  "Solve this step by step, checking each step: {question}",
  "First estimate the answer roughly, then compute it exactly: {question}",
  "Work backwards from what is asked, then compute: {question}",
  "Explain your method in one line, then compute: {question}",
];

const solver = defineAgent({
  name: "solver",
  instructions: 'Solve the problem. Use the calculator for every calculation, then end with a last line "Answer: N".',
  tools: [calculator],
  maxSteps: 4,
});

/** Self-consistency over five varied prompts; a provider model samples at temperature 0.7 (the offline model is deterministic). */
export function createSelfConsistencyExample(context: GraphBuildContext, samples = 5) {
  const sampling = effectiveProvider(context.config.model) !== "offline";
  return createSelfConsistencyGraph({ samples, agent: solver, prompts: PROMPTS, ...(sampling ? { temperature: 0.7 } : {}) });
}

/** `conclave run --graph self-consistency "What is …?"`: five sampled answers, majority of the final answers. */
export const example = defineGraph({
  name: "self-consistency",
  description: "Self-consistency: N answers from varied prompts in parallel, majority of the normalised final answers, with the agreement",
  sample: "What is 48 / 4 + 7 * 3?",
  build: (context) => createSelfConsistencyExample(context, context.options?.agents ?? 5),
  input: (task) => ({ question: task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: [],
    details: {
      normalizedAnswer: state.final?.normalized ?? null,
      agreement: state.final?.agreement ?? null,
      votes: state.final?.votes ?? {},
      modelCalls: state.samples.reduce((sum, sample) => sum + sample.modelCalls, 0),
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
