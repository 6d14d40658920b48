import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { defineAgent } from "conclave";
import type { AnyTool } from "conclave";
import { researchInstructions } from "./instructions.ts";

export interface ResearchAgentOptions {
  tools: readonly AnyTool[];
  /** Most model calls (default 6). */
  maxSteps?: number;
  model?: BaseChatModel;
}

/** A research agent: a ReAct loop over retrieval, calculator and file tools that answers with citations. */
export function createResearchAgent(options: ResearchAgentOptions) {
  return defineAgent({
    name: "research",
    instructions: researchInstructions,
    tools: options.tools,
    maxSteps: options.maxSteps ?? 6,
    ...(options.model ? { model: options.model } : {}),
  });
}
