import { ConfigError, createDebateGraph, compileGraph, defineAgent, defineGraph } from "conclave";
import type { GraphBuildContext } from "conclave";
import { calculator } from "../tools/index.ts";

const solverInstructions = `You are one solver on a panel answering the same question. Reason step by step, use the calculator for every calculation, and end with your final answer.
When you are shown other solvers' answers, check their reasoning against yours; change your answer only if you find a real mistake.`;

export interface DebateGraphOptions {
  /** How many solvers (default 3). */
  agents?: number;
  /** Most rounds, the first included (default 2). */
  maxRounds?: number;
  /** Majority vote (default) or a judge agent. */
  aggregate?: "majority" | "judge";
}

/** A panel of calculator-equipped solvers that debate (Du et al. 2023), ending by majority vote or a judge. */
export function createDebate(context: GraphBuildContext, options: DebateGraphOptions = {}) {
  const count = options.agents ?? context.options?.agents ?? 3;
  if (count < 2) throw new ConfigError(`A debate needs at least 2 solvers; got --agents ${count}. Use --agents 2 or more.`);
  const aggregate = options.aggregate ?? (context.options?.aggregate as DebateGraphOptions["aggregate"] | undefined) ?? "majority";
  if (aggregate !== "majority" && aggregate !== "judge") throw new ConfigError(`--aggregate must be "majority" or "judge"; got "${String(aggregate)}".`);
  const solvers = Array.from({ length: count }, (_, index) => defineAgent({ name: `solver-${index + 1}`, instructions: solverInstructions, tools: [calculator], maxSteps: 4 }));
  const judge = defineAgent({ name: "judge", instructions: "You judge a panel's answers: pick the one whose reasoning is correct and restate it as the final answer.", tools: [calculator], maxSteps: 3 });
  return createDebateGraph({ solvers, judge, maxRounds: options.maxRounds ?? context.options?.maxRounds ?? 2, aggregate });
}

/** Panel debate for `conclave run --graph debate --agents N --max-rounds N`. */
export const debate = defineGraph({
  name: "debate",
  description: "Panel debate: N solvers answer, read each other's answers and revise; majority vote (or --aggregate judge) decides",
  sample: "What is 12*(7+5)-3?",
  build: (context) => createDebate(context),
  input: (task) => ({ question: task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: [],
    details: {
      rounds: state.rounds.length,
      agreement: state.rounds.map((round) => round.agreement),
      verdict: state.final?.method ?? null,
      normalizedAnswer: state.final?.normalized ?? null,
      terminationReason: state.terminationReason ?? null,
      modelCalls: state.answers.reduce((sum, answer) => sum + answer.modelCalls, 0) + (state.final?.judgeCalls ?? 0),
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(debate);
