import { compileGraph, defineGraph } from "conclave";
import { createResearchTeam, researchTeam } from "../research-team.ts";

/**
 * Collaborative propose → critique → refine. The research team already is this pattern (writing
 * proposes a draft, verification critiques each claim, the coordinator sends it back for
 * revision until approved, out of rounds or out of progress), so this example only names it.
 */
export const example = defineGraph({
  name: "collaborative",
  description: "Collaborative propose → critique → refine: writing drafts, verification critiques every claim, revisions until approved (the research team)",
  sample: "When did Apollo 11 land on the Moon, and who was its commander?",
  build: (context) => createResearchTeam(context),
  input: (task) => ({ task }),
  output: (state) => researchTeam.output(state),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
