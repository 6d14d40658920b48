import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { END, Send, START, StateGraph } from "@langchain/langgraph";
import type { GraphBuildContext } from "conclave";
import { observeNode, setStepBudget, stepBudgetOf } from "conclave";
import { teamAgents } from "./agents.ts";
import type { ResearchTeamOptions } from "./agents.ts";
import { coordinateNode, finalizeNode, reviewNode } from "./coordinate.ts";
import { planNode, researchNode } from "./research.ts";
import type { ResearchTask } from "./research.ts";
import { TeamState } from "./state.ts";
import type { TeamStateType, TeamUpdate } from "./state.ts";
import { claimTasks, critiqueNode, verifyNode } from "./verify.ts";
import type { VerifyTask } from "./verify.ts";
import { writeNode } from "./write.ts";

type Node = (state: TeamStateType, config: LangGraphRunnableConfig) => Promise<TeamUpdate> | TeamUpdate;

/**
 * The research team: coordinator plans → research fans out over the sub-questions (Send) →
 * writing drafts from the findings → verification checks every claim (Send) → critique →
 * coordinator finishes or asks for a revision, until approval, the round limit, no progress or
 * the budget; then the coordinator writes the final answer with citations.
 */
export function createResearchTeam(context: GraphBuildContext, options: ResearchTeamOptions = {}) {
  const maxRounds = options.maxRounds ?? context.options?.maxRounds ?? 3;
  const agents = teamAgents(context, options);
  const toResearch = (state: TeamStateType) => (state.terminationReason ? "synthesis" : state.plan.map((item) => new Send("research", { item, round: state.round } satisfies ResearchTask)));
  const toVerify = (state: TeamStateType) => {
    if (state.terminationReason) return "synthesis";
    const tasks = claimTasks(state);
    return tasks.length ? tasks.map((task) => new Send("verification", task satisfies VerifyTask)) : "critique";
  };
  const graph = new StateGraph(TeamState)
    .addNode("planning", observeNode("planning", planNode(agents, options.maxSubQuestions ?? 4)))
    // Send delivers a task object, not the team state, to these two nodes.
    .addNode("research", observeNode("research", researchNode(agents)) as unknown as Node)
    .addNode("writing", observeNode("writing", writeNode(agents)))
    .addNode("verification", observeNode("verification", verifyNode(agents)) as unknown as Node)
    .addNode("critique", observeNode("critique", critiqueNode()))
    .addNode("coordinator", observeNode("coordinator", coordinateNode(maxRounds)))
    .addNode("synthesis", observeNode("synthesis", finalizeNode(agents)))
    .addNode("review", observeNode("review", reviewNode()))
    .addEdge(START, "planning")
    .addConditionalEdges("planning", toResearch, ["research", "synthesis"])
    .addEdge("research", "writing")
    .addConditionalEdges("writing", toVerify, ["verification", "critique", "synthesis"])
    .addEdge("verification", "critique")
    .addEdge("critique", "coordinator")
    .addConditionalEdges("coordinator", (state: TeamStateType) => (state.terminationReason ? "synthesis" : "writing"), ["writing", "synthesis"])
    .addEdge("synthesis", "review")
    .addEdge("review", END)
    .compile({ name: "research-team" });
  const inner = Math.max(...Object.values(agents).map((agentGraph) => stepBudgetOf(agentGraph) ?? 0));
  return setStepBudget(graph, Math.max(inner, maxRounds * 4 + 7));
}
