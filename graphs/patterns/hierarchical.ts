import { compileGraph, createHierarchicalGraph, defineGraph, extractCitations } from "conclave";
import type { GraphBuildContext } from "conclave";
import { createResearchAgent } from "../../agents/research/agent.ts";
import { createWritingAgent } from "../../agents/writing/agent.ts";
import { standardTools } from "../../tools/index.ts";

/**
 * A coordinator over two workers: `research` (retrieve, calculator) finds cited facts, `writing`
 * turns the results into an answer. The coordinator decides who acts next and when to finish.
 */
export function createHierarchicalTeam(context: GraphBuildContext) {
  const tools = standardTools(context);
  return createHierarchicalGraph({
    workers: {
      research: { worker: createResearchAgent({ tools: [tools.retrieve, tools.calculator], maxSteps: 4 }), description: "finds facts in the document corpus and answers with [source] citations" },
      writing: { worker: createWritingAgent(), description: "writes a short final answer from the results so far, keeping their citations" },
    },
    maxDelegations: context.options?.maxRounds ?? 4,
  });
}

/** `conclave run --graph hierarchical "…"` (`--max-rounds N` caps the delegations). */
export const example = defineGraph({
  name: "hierarchical",
  description: "Hierarchical team: a coordinator delegates to research and writing workers, with a reason per delegation, then integrates their results",
  sample: "Who discovered penicillin, and in which year?",
  build: (context) => createHierarchicalTeam(context),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: extractCitations(state.final?.answer ?? ""),
    details: {
      delegations: state.delegations.map(({ index, worker, instruction, reason, error }) => ({ index, worker, instruction, reason, ...(error ? { error } : {}) })),
      answeredBy: state.final?.by ?? null,
      terminationReason: state.terminationReason ?? null,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
