import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { defineAgent } from "conclave";
import type { AnyTool } from "conclave";
import { z } from "zod";
import { verificationInstructions } from "./instructions.ts";

/** The verdict on one claim. */
export const ClaimVerdictSchema = z.object({
  verdict: z.enum(["supported", "unsupported", "contradicted"]).describe("How the claim stands against its sources"),
  problem: z.string().describe("What is wrong with the claim; empty when supported"),
  suggestion: z.string().describe("How to fix it; empty when supported"),
});
export type ClaimVerdict = z.infer<typeof ClaimVerdictSchema>;

/** The verification agent: tests one claim with check_support (a ReAct step) and returns a verdict validated by zod. */
export function createVerificationAgent(options: { checkSupport: AnyTool; model?: BaseChatModel; maxSteps?: number }) {
  return defineAgent({
    name: "verification",
    instructions: verificationInstructions,
    tools: [options.checkSupport],
    outputSchema: ClaimVerdictSchema,
    maxSteps: options.maxSteps ?? 3,
    ...(options.model ? { model: options.model } : {}),
  });
}
