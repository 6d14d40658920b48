import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import type { AnyTool } from "../tool/define-tool.ts";

/** Options of `createReActGraph`: an agent definition with defaults for everything but the tools. */
export interface ReActOptions<O extends z.ZodType | undefined = undefined> {
  /** The tools the model may call: Conclave tools (`defineTool`) or any LangChain tools. Names must be unique. */
  tools: readonly AnyTool[];
  /** The system prompt (default: reason step by step, use the tools for facts and arithmetic, cite `[source]` ids). */
  instructions?: string;
  /** Labels events and usage; letters, digits, `_` and `-` (default "react"). */
  name?: string;
  /** Most model calls in the loop (default 6); a model still calling tools at the last one raises `MaxStepsExceededError` with the conversation so far. */
  maxSteps?: number;
  /** Overrides the run's model. */
  model?: BaseChatModel;
  /** A zod schema: the loop then ends with a validated `structuredResponse` (one forced `final_answer` call, retried once). */
  outputSchema?: O;
}

const DEFAULT_INSTRUCTIONS = [
  "Solve the task step by step. Call a tool whenever it can give you a fact or a calculation instead of guessing, read its result, and continue until you can answer.",
  "Answer in plain words; when a tool result starts with a [source] id, cite it after the sentence that uses it.",
].join(" ");

/**
 * ReAct (reason + act): the model thinks, calls tools, reads their observations and repeats
 * until it answers. This is Conclave's agent loop itself — `createAgentGraph(defineAgent(…))`:
 * `model` ⇄ `tools` (→ `respond` with an `outputSchema`) — given a pattern-library entry point
 * with defaults; it adds no second loop. Input `{ messages }`; output the conversation, `steps`
 * and, with a schema, `structuredResponse`. Tool calls run in parallel, and unknown tools, schema
 * failures and thrown errors come back as observations; the step limit derives from `maxSteps`.
 *
 * @example
 * const graph = createReActGraph({ tools: [calculator], maxSteps: 4 });
 * const { state } = await run(graph, { messages: [new HumanMessage("What is 17 * 23 + 4?")] });
 */
export function createReActGraph<O extends z.ZodType | undefined = undefined>(options: ReActOptions<O>) {
  const { tools, instructions = DEFAULT_INSTRUCTIONS, name = "react", maxSteps = 6, model, outputSchema } = options;
  // defineAgent validates everything (name, steps, tools, schema) with actionable DefinitionErrors.
  return createAgentGraph(defineAgent<O>({ name, instructions, tools, maxSteps, ...(model ? { model } : {}), ...(outputSchema ? { outputSchema } : {}) }));
}
