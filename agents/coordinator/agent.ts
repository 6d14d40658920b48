import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { defineAgent } from "conclave";
import { z } from "zod";
import { planningInstructions, synthesisInstructions } from "./instructions.ts";

/** A plan: the sub-questions research fans out over. */
export const PlanSchema = z.object({
  subQuestions: z.array(z.object({ question: z.string().min(1).describe("One focused sub-question") })).max(8).describe("At most 4 sub-questions that together answer the task"),
});
export type Plan = z.infer<typeof PlanSchema>;

/**
 * The coordinator's two model-facing roles: planning (a structured plan of sub-questions) and the
 * final synthesis (text with citations). Its routing decisions are code, logged as events.
 */
export function createCoordinatorAgents(options: { model?: BaseChatModel } = {}) {
  const model = options.model ? { model: options.model } : {};
  return {
    planner: defineAgent({ name: "coordinator", instructions: planningInstructions, tools: [], outputSchema: PlanSchema, maxSteps: 2, ...model }),
    synthesizer: defineAgent({ name: "coordinator", instructions: synthesisInstructions, tools: [], maxSteps: 1, ...model }),
  };
}
