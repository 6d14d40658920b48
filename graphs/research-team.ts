import { compileGraph, defineGraph } from "conclave";
import { createResearchTeam } from "./research-team/graph.ts";

export { createResearchTeam } from "./research-team/graph.ts";
export type { ResearchTeamOptions, TeamRole } from "./research-team/agents.ts";
export { TeamState } from "./research-team/state.ts";

/** The flagship graph: coordinator, research, writing and verification agents refining an answer through critique rounds. */
export const researchTeam = defineGraph({
  name: "research-team",
  description: "Coordinator, research, writing and verification agents; critique rounds until the verifier approves",
  sample: "Who discovered penicillin?",
  build: (context) => createResearchTeam(context),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.final?.answer ?? "",
    citations: state.final?.citations ?? [],
    details: {
      rounds: state.critiques.length,
      verdict: state.critiques.at(-1)?.overall ?? null,
      verified: state.final?.verified ?? false,
      ...(state.final?.review ? { review: state.final.review } : {}),
      terminationReason: state.terminationReason ?? null,
      critiques: state.critiques,
      findings: state.findings.length,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(researchTeam);
