import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import type { AnyTool } from "../tool/define-tool.ts";

/** An agent definition: plain data, executed by `createAgentGraph` / `run`. */
export interface AgentDefinition<O extends z.ZodType | undefined = undefined> {
  /** Shown in progress output and events; letters, digits, `_` and `-`. */
  name: string;
  /** The system prompt: who the agent is and how it works. */
  instructions: string;
  /** Conclave tools or any LangChain tools. */
  tools: readonly AnyTool[];
  /** Overrides the run's model for this agent (for example a cheaper model for a simple role). */
  model?: BaseChatModel;
  /** When set, the agent ends with an answer validated by this schema (`structuredResponse`). */
  outputSchema?: O;
  /** Most model calls the agent may make; reaching it without an answer raises `MaxStepsExceededError`. */
  maxSteps: number;
}

/** A defined agent. Frozen, so a definition can be shared by many runs safely. */
export type Agent<O extends z.ZodType | undefined = undefined> = Readonly<AgentDefinition<O>> & { readonly kind: "conclave.agent" };

/** The structured answer type of an agent: `z.output` of its schema, or `undefined` without one. */
export type AgentOutput<A> = A extends Agent<infer O> ? (O extends z.ZodType ? z.output<O> : undefined) : never;

const AGENT_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines an agent. Running it is a ReAct loop: the model sees the instructions and conversation,
 * calls tools, reads their observations, and repeats until it answers in text (or, with
 * `outputSchema`, in a structure checked by zod).
 *
 * @example
 * const researcher = defineAgent({
 *   name: "researcher",
 *   instructions: "Answer from the documents; cite their ids.",
 *   tools: [retrieve],
 *   maxSteps: 6,
 * });
 */
export function defineAgent<O extends z.ZodType | undefined = undefined>(definition: AgentDefinition<O>): Agent<O> {
  if (!AGENT_NAME.test(definition.name ?? "")) {
    throw new DefinitionError(`Agent name ${JSON.stringify(definition.name)} is invalid. Use 1-64 letters, digits, "_" or "-".`);
  }
  if (typeof definition.instructions !== "string" || definition.instructions.trim() === "") {
    throw new DefinitionError(`Agent "${definition.name}" has no instructions. Give it a system prompt that says its role and how to use its tools.`);
  }
  if (!Number.isInteger(definition.maxSteps) || definition.maxSteps < 1) {
    throw new DefinitionError(`Agent "${definition.name}" has maxSteps ${String(definition.maxSteps)}; use a whole number of model calls, at least 1.`);
  }
  if (!Array.isArray(definition.tools)) {
    throw new DefinitionError(`Agent "${definition.name}" needs a tools array (it may be empty).`);
  }
  const names = new Set<string>();
  for (const tool of definition.tools) {
    if (!tool || typeof tool.name !== "string" || typeof tool.invoke !== "function") {
      throw new DefinitionError(`Agent "${definition.name}" has a tool that is not a LangChain tool. Build tools with defineTool() or LangChain's tool().`);
    }
    if (names.has(tool.name)) throw new DefinitionError(`Agent "${definition.name}" has two tools named "${tool.name}". Tool names must be unique.`);
    names.add(tool.name);
  }
  if (definition.outputSchema !== undefined && !(definition.outputSchema instanceof z.ZodType)) {
    throw new DefinitionError(`Agent "${definition.name}" has an outputSchema that is not a zod schema.`);
  }
  return Object.freeze({ ...definition, tools: Object.freeze([...definition.tools]), kind: "conclave.agent" as const });
}
