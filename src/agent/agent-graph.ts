import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { END, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError, MaxStepsExceededError, OutputValidationError } from "../errors.ts";
import { AGENT_METADATA_KEY, observeModelCall } from "../models/observe.ts";
import { modelCallLabel } from "../models/call-label.ts";
import { defaultModel } from "../models/resolve.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";
import type { Agent } from "./define-agent.ts";
import { repairInvalidToolCalls, runToolCalls } from "./tools-node.ts";

/** The state of one agent's ReAct loop. */
export function agentStateSchema<O>() {
  return new StateSchema({
    messages: MessagesValue,
    /** Model calls made so far. */
    steps: z.number().default(0),
    /** The answer checked against the agent's `outputSchema`, when it has one. */
    structuredResponse: z.custom<O>().optional(),
  });
}

/** The name of the structured-answer tool bound when an agent has an `outputSchema`. */
export const FINAL_ANSWER_TOOL = "final_answer";
const STRUCTURED_ATTEMPTS = 2;

/**
 * Compiles an agent into a LangGraph ReAct loop: `model` → `tools` → `model` … → (`respond`) → end.
 * Input: `{ messages }`. Output: the conversation, the step count and, with an `outputSchema`,
 * `structuredResponse`. The graph's step limit is derived from `maxSteps` (see `run`).
 */
export function createAgentGraph<O extends z.ZodType | undefined>(agent: Agent<O>) {
  type Output = O extends z.ZodType ? z.output<O> : undefined;
  const State = agentStateSchema<Output>();
  type S = typeof State.State;

  const callModel = async (state: S, nodeConfig: LangGraphRunnableConfig) => {
    const config = tagged(nodeConfig, agent.name);
    const model = modelFor(agent, config);
    const bound = agent.tools.length ? bindTools(model, agent) : model;
    const messages = [new SystemMessage(agent.instructions), ...state.messages];
    let response;
    try {
      const base = labelFor(model, config, messages.length);
      const label = { ...base, request: { ...base.request, messages, tools: agent.tools } };
      response = await observeModelCall(config, label, (signal, backup) => (backup ? (agent.tools.length ? bindTools(backup, agent) : backup) : bound).invoke(messages, signal ? { ...config, signal } : config));
    } catch (error) {
      // A refused call ends the loop, but what the agent gathered so far goes with the error.
      if (isBudgetExceeded(error)) error.partialState ??= { messages: state.messages, steps: state.steps };
      throw error;
    }
    const message = repairInvalidToolCalls(AIMessage.isInstance(response) ? response : new AIMessage({ content: (response as AIMessage).content }));
    const steps = state.steps + 1;
    if (message.tool_calls?.length && steps >= agent.maxSteps) {
      throw new MaxStepsExceededError(agent.name, agent.maxSteps, { messages: [...state.messages, message], steps });
    }
    return { messages: [message], steps };
  };

  const callTools = async (state: S, config: LangGraphRunnableConfig) => ({ messages: await runToolCalls(state.messages, agent.tools, tagged(config, agent.name)) });

  const respond = async (state: S, config: LangGraphRunnableConfig) => ({
    structuredResponse: (await structuredAnswer(agent, state.messages, tagged(config, agent.name))) as Output,
  });

  const graph = new StateGraph(State)
    .addNode("model", observeNode("model", callModel))
    .addNode("tools", observeNode("tools", callTools))
    .addNode("respond", observeNode("respond", respond))
    // With nothing to call and a schema to fill, the answer is one structured call.
    .addConditionalEdges(START, () => (agent.tools.length === 0 && agent.outputSchema ? "respond" : "model"), ["model", "respond"])
    .addConditionalEdges("model", (state: S) => {
      const last = state.messages.at(-1);
      if (last && AIMessage.isInstance(last) && last.tool_calls?.length) return "tools";
      return agent.outputSchema ? "respond" : END;
    }, ["tools", "respond", END])
    .addEdge("tools", "model")
    .addEdge("respond", END)
    .compile({ name: agent.name });
  // model + tools per step, plus start, respond and one spare.
  setStepBudget(graph, agent.maxSteps * 2 + 3);
  return graph;
}

/** Names the agent in the metadata of the model and tool calls below, so their events say whose they are. */
function tagged(config: LangGraphRunnableConfig, agent: string): LangGraphRunnableConfig {
  return { ...config, metadata: { ...config.metadata, [AGENT_METADATA_KEY]: agent } };
}

function modelFor(agent: Agent<z.ZodType | undefined>, config: LangGraphRunnableConfig): BaseChatModel {
  return agent.model ?? runContext(config).model ?? defaultModel();
}

/** The call's label (see `modelCallLabel`), after warning once about a model that retries on its own. */
function labelFor(model: BaseChatModel, config: LangGraphRunnableConfig, messageCount: number) {
  const context = runContext(config);
  const label = modelCallLabel(model, config, []);
  // A model with retries of its own multiplies ours (3 × 3 = 9 requests per call): say so once.
  const ownRetries = (model as unknown as { caller?: { maxRetries?: unknown } }).caller?.maxRetries;
  if (label.endpoint && typeof ownRetries === "number" && ownRetries > 0 && context.events && !context.warned?.has(`retries:${label.model}`)) {
    (context.warned ??= new Set()).add(`retries:${label.model}`);
    context.events.emit({ type: "warning", message: `Model "${label.model}" retries failed requests itself (maxRetries ${ownRetries}) and Conclave retries too, multiplying requests. Build it with maxRetries: 0 (createChatModel does).` });
  }
  return { ...label, messageCount, request: { messages: [] as unknown[], parameters: label.request.parameters } };
}

function bindTools(model: BaseChatModel, agent: Agent<z.ZodType | undefined>) {
  if (typeof model.bindTools !== "function") {
    throw new DefinitionError(`Agent "${agent.name}" has tools, but its model (${model._llmType()}) cannot call tools. Use a model with tool calling, or remove the tools.`);
  }
  return model.bindTools([...agent.tools]);
}

/**
 * Asks the model for the answer in the agent's schema (a forced `final_answer` tool call, through
 * LangChain's `withStructuredOutput`), validates it with zod and, if it does not fit, shows the
 * model the problems and asks again before giving up.
 */
async function structuredAnswer(agent: Agent<z.ZodType | undefined>, messages: BaseMessage[], config: LangGraphRunnableConfig): Promise<unknown> {
  const schema = agent.outputSchema!;
  const model = modelFor(agent, config);
  const structured = model.withStructuredOutput(schema, { name: FINAL_ANSWER_TOOL, method: "functionCalling", includeRaw: true });
  // The forced tool call is the request; a retry shows the model its answer and what was wrong.
  const conversation: BaseMessage[] = [new SystemMessage(agent.instructions), ...messages];
  let problem = "";
  for (let attempt = 1; attempt <= STRUCTURED_ATTEMPTS; attempt++) {
    const base = labelFor(model, config, conversation.length);
    const label = { ...base, structured: true, request: { messages: conversation, parameters: { ...base.request.parameters, structuredOutput: FINAL_ANSWER_TOOL, schema: z.toJSONSchema(schema, { unrepresentable: "any" }) } } };
    const result = (await observeModelCall(config, label, (signal, backup) => (backup ? backup.withStructuredOutput(schema, { name: FINAL_ANSWER_TOOL, method: "functionCalling", includeRaw: true }) : structured).invoke(conversation, signal ? { ...config, signal } : config))) as { parsed?: unknown; parsingError?: unknown } | undefined;
    const candidate = result && "parsed" in result ? result.parsed : result;
    const checked = schema.safeParse(candidate);
    if (checked.success) return checked.data;
    problem = result?.parsingError instanceof Error ? result.parsingError.message : z.prettifyError(checked.error);
    conversation.push(new HumanMessage(`Your ${FINAL_ANSWER_TOOL} answer was ${JSON.stringify(candidate ?? null).slice(0, 2_000)}, which does not match the schema:\n${problem}\nCall ${FINAL_ANSWER_TOOL} again with corrected arguments.`));
  }
  throw new OutputValidationError(`Agent "${agent.name}" did not produce an answer matching its outputSchema after ${STRUCTURED_ATTEMPTS} attempts: ${problem}. Simplify the schema, describe its fields with .describe(), or use a stronger model.`, { details: { agent: agent.name } });
}
