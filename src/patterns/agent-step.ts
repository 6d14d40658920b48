import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import type { Agent } from "../agent/define-agent.ts";

/** Any Conclave agent, whatever its output schema. */
export type AnyAgent = Agent<z.ZodType | undefined>;

/** What a pattern tells a step function about where it runs. */
export interface StepContext {
  /** The node's LangGraph config: pass it to agents and `observeModelCall` so their calls join the run (events, budget, checkpoints). */
  config: LangGraphRunnableConfig;
  /** Aborted when the run is cancelled. */
  signal?: AbortSignal;
}

/** True for a definition made by `defineAgent`. */
export function isAgent(value: unknown): value is AnyAgent {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "conclave.agent";
}

/** The context a pattern hands its step functions, from the node's config. */
export function stepContext(config: LangGraphRunnableConfig): StepContext {
  return { config, ...(config.signal ? { signal: config.signal } : {}) };
}

/** What an agent answered to one prompt, and the model calls it took. */
export interface AgentReply {
  text: string;
  modelCalls: number;
}

/**
 * Compiles an agent once and returns a function that asks it one prompt, as a subgraph of the
 * calling node (so its model calls go through `observeModelCall` and are labelled with its name).
 * The answer is the last message's text, or the structured answer as JSON when it has a schema.
 */
export function agentAsker(agent: AnyAgent) {
  const graph = createAgentGraph(agent);
  const ask = async (prompt: string, config: LangGraphRunnableConfig): Promise<AgentReply> => {
    const result = await graph.invoke({ messages: [new HumanMessage(prompt)] }, config);
    const text = result.structuredResponse !== undefined ? JSON.stringify(result.structuredResponse) : (result.messages.at(-1)?.text.trim() ?? "");
    return { text, modelCalls: result.steps };
  };
  return Object.assign(ask, { graph });
}

/** Validation issues as one line for an error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`).join("; ");
}
