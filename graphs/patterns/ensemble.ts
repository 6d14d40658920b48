import { ConfigError, compileGraph, createEnsembleGraph, defineAgent, defineGraph, normalizeAnswer } from "conclave";
import type { GraphBuildContext } from "conclave";
import { calculator } from "../../tools/index.ts";

/** Three independent answerers with different methods: their errors are less likely to coincide than one agent's samples. */
export const members = [
  defineAgent({ name: "calculator-first", instructions: 'Answer the question. Use the calculator for every calculation, then end with a last line "Answer: N".', tools: [calculator], maxSteps: 4 }),
  defineAgent({ name: "estimator", instructions: 'Answer the question. Estimate the answer roughly first, then check it with the calculator, and end with a last line "Answer: N".', tools: [calculator], maxSteps: 4 }),
  defineAgent({ name: "mental-math", instructions: 'Answer the question by reasoning it through in your head, without tools, and end with a last line "Answer: N".', tools: [], maxSteps: 1 }),
];

const stacker = defineAgent({ name: "stacker", instructions: 'You read several models\' answers to a question and give the best-supported one. Check their arithmetic with the calculator, then end with a last line "Answer: N".', tools: [calculator], maxSteps: 3 });

/** The answer's number, or "" (no vote) when it states none: "I cannot tell" must not outvote numbers. */
export function numberOf(text: string): string {
  const normalized = normalizeAnswer(text);
  return /^-?\d/.test(normalized) ? normalized : "";
}

/** How the members' answers are combined: `--aggregate vote` (default), `average`, or `stack` (a meta-agent reads them all). */
export function createEnsembleExample(context: GraphBuildContext) {
  const aggregate = String(context.options?.aggregate ?? "vote");
  if (aggregate !== "vote" && aggregate !== "average" && aggregate !== "stack") throw new ConfigError(`--aggregate must be "vote", "average" or "stack" for the ensemble; got "${aggregate}".`);
  return createEnsembleGraph({ members, combine: aggregate === "stack" ? { stack: stacker } : aggregate, normalize: numberOf });
}

/** `conclave run --graph ensemble "What is …?"`: three agents answer the same question; their majority (or average, or a stacker) decides. */
export const example = defineGraph({
  name: "ensemble",
  description: "Ensemble: three agents answer the same question independently; majority vote (or --aggregate average / stack)",
  sample: "A train covers 240 km in 3 hours. What is 240 / 3, its average speed in km per hour?",
  build: (context) => createEnsembleExample(context),
  input: (task) => ({ question: task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: [],
    details: {
      method: state.final?.method ?? null,
      normalizedAnswer: state.final?.normalized ?? null,
      agreement: state.final?.agreement ?? null,
      votes: state.final?.votes ?? {},
      predictions: state.predictions.map((prediction) => ({ member: prediction.member, answer: prediction.normalized, ...(prediction.error ? { error: prediction.error } : {}) })),
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
