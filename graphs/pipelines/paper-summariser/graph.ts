import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { END, Send, START, StateGraph } from "@langchain/langgraph";
import type { GraphBuildContext } from "conclave";
import { ConfigError, observeNode, setStepBudget, stepBudgetOf } from "conclave";
import { z } from "zod";
import { paperAgents } from "./agents.ts";
import { extractNode, overviewNode, splitNode, summariseNode } from "./nodes.ts";
import type { SectionTask } from "./nodes.ts";
import { PaperState } from "./state.ts";
import type { PaperStateType, PaperUpdate } from "./state.ts";

const ChatModel = z.custom<BaseChatModel>((value) => typeof value === "object" && value !== null && typeof (value as { invoke?: unknown }).invoke === "function", "a LangChain chat model");

/** How the summariser is built; everything is optional. */
export const PaperSummariserOptionsSchema = z
  .object({
    /** Sections longer than this (characters) are cut into parts summarised separately. Default 12,000 (about 3,000 tokens). */
    maxSectionChars: z.number().int().min(500).default(12_000),
    /** Most candidate mentions offered to the extractor per section. Default 40. */
    maxMentions: z.number().int().min(1).max(200).default(40),
    /** A model per role (summariser: sections; writer: executive and technical summaries; extractor); the others use the run's model. */
    models: z.object({ summariser: ChatModel, writer: ChatModel, extractor: ChatModel }).partial().default({}),
  })
  .strict();

export type PaperSummariserOptions = z.input<typeof PaperSummariserOptionsSchema>;

type Node = (state: PaperStateType, config: LangGraphRunnableConfig) => Promise<PaperUpdate>;

/**
 * The research-paper summariser: split the paper into sections → summarise and mine each section
 * in parallel (`Send`) → write the executive and the technical summary (in parallel) from the
 * section summaries. Entities and relations are structured output, grounded in their section.
 *
 * @example
 * const graph = createPaperSummariser({ config, cwd: process.cwd() }, { maxMentions: 30 });
 * const { state } = await run(graph, { source: "papers/rag.md" });
 * console.log(state.executiveSummary, state.entities);
 */
export function createPaperSummariser(context: GraphBuildContext, options: PaperSummariserOptions = {}) {
  const parsed = PaperSummariserOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`Invalid paper-summariser options: ${z.prettifyError(parsed.error)}`);
  const { maxSectionChars, maxMentions, models } = parsed.data;
  const agents = paperAgents(models);
  // Every section gets two tasks in the same superstep: its summary and its entities.
  const fanOut = (state: PaperStateType) =>
    state.sections.flatMap((section) => {
      const task = { section, paper: state.title } satisfies SectionTask;
      return [new Send("summarise", task), new Send("extract", task)];
    });
  const graph = new StateGraph(PaperState)
    .addNode("split", observeNode("split", splitNode(context.cwd, maxSectionChars)))
    // Send delivers a SectionTask, not the state, to these two nodes.
    .addNode("summarise", observeNode("summarise", summariseNode(agents)) as unknown as Node)
    .addNode("extract", observeNode("extract", extractNode(agents, maxMentions)) as unknown as Node)
    .addNode("executive", observeNode("executive", overviewNode("executive", agents)))
    .addNode("technical", observeNode("technical", overviewNode("technical", agents)))
    .addEdge(START, "split")
    .addConditionalEdges("split", fanOut, ["summarise", "extract"])
    // Both overviews wait for every summary (one superstep), then run side by side.
    .addEdge("summarise", "executive")
    .addEdge("summarise", "technical")
    .addEdge("extract", END)
    .addEdge("executive", END)
    .addEdge("technical", END)
    .compile({ name: "paper-summariser" });
  // Four supersteps here (split, the fan-out, the overviews, end); the limit applies to every graph
  // level, so the agents' own loops count too (the extractor is built like the others, maxSteps 1).
  const inner = Math.max(...[agents.section, agents.executive, agents.technical].map((agent) => stepBudgetOf(agent) ?? 0));
  return setStepBudget(graph, Math.max(inner, 6));
}
