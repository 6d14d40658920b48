import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AnyTool, GraphBuildContext } from "conclave";
import { createAgentGraph } from "conclave";
import { createCoordinatorAgents } from "../../agents/coordinator/agent.ts";
import { createResearchAgent } from "../../agents/research/agent.ts";
import { createVerificationAgent } from "../../agents/verification/agent.ts";
import { createWritingAgent } from "../../agents/writing/agent.ts";
import { standardTools } from "../../tools/index.ts";

export type TeamRole = "coordinator" | "research" | "writing" | "verification";

/** How the team is built: rounds, per-agent tool steps, the plan's size, extra tools and per-role models. */
export interface ResearchTeamOptions {
  /** Most writing → verification rounds (default 3). */
  maxRounds?: number;
  /** Most model calls per agent run, i.e. ReAct steps (default 6). */
  maxToolSteps?: number;
  /** Most sub-questions research fans out over (default 4). */
  maxSubQuestions?: number;
  /** Extra tools for the research agent, next to retrieve, calculator and read_file. */
  tools?: readonly AnyTool[];
  /** A model per role; roles without one use the run's model. */
  models?: Partial<Record<TeamRole, BaseChatModel>>;
}

/** The team's compiled agent graphs, built from the standard tools of the build context. */
export function teamAgents(context: GraphBuildContext, options: ResearchTeamOptions) {
  const tools = standardTools(context);
  const steps = options.maxToolSteps ?? 6;
  const model = (role: TeamRole) => (options.models?.[role] ? { model: options.models[role] } : {});
  const coordinator = createCoordinatorAgents(model("coordinator"));
  return {
    planner: createAgentGraph(coordinator.planner),
    synthesizer: createAgentGraph(coordinator.synthesizer),
    research: createAgentGraph(createResearchAgent({ tools: [tools.retrieve, tools.calculator, tools.readFile, ...(options.tools ?? [])], maxSteps: steps, ...model("research") })),
    writing: createAgentGraph(createWritingAgent(model("writing"))),
    verification: createAgentGraph(createVerificationAgent({ checkSupport: tools.checkSupport, maxSteps: Math.min(steps, 3), ...model("verification") })),
  };
}

export type TeamAgents = ReturnType<typeof teamAgents>;
