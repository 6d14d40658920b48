import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { defineAgent } from "conclave";
import { writingInstructions } from "./instructions.ts";

/** The writing agent: drafts from findings only, with inline citations, and revises against critiques. No tools. */
export function createWritingAgent(options: { model?: BaseChatModel } = {}) {
  return defineAgent({ name: "writing", instructions: writingInstructions, tools: [], maxSteps: 1, ...(options.model ? { model: options.model } : {}) });
}
