import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, ReducedValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError, OutputValidationError } from "../errors.ts";
import type { AnyTool } from "../tool/define-tool.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";

/** What the planner answers: the steps, in order. */
export const ChainOfThoughtPlanSchema = z.object({
  steps: z.array(z.string()).describe("The steps that solve the task, in order; each one short action whose result the next steps can use."),
});

/** One executed step and its result. */
export const ChainOfThoughtStepSchema = z.object({
  index: z.number().int(),
  step: z.string(),
  output: z.string(),
  /** Model calls the step took (more than one when it used tools). */
  modelCalls: z.number().int(),
});
export type ChainOfThoughtStep = z.infer<typeof ChainOfThoughtStepSchema>;

/** The state of a chain of thought: the task, the plan, each step's result and the synthesised answer. */
export const ChainOfThoughtState = new StateSchema({
  task: z.string(),
  plan: z.array(z.string()).default(() => []),
  steps: new ReducedValue(z.array(ChainOfThoughtStepSchema).default(() => []), { inputSchema: z.array(ChainOfThoughtStepSchema), reducer: (current: ChainOfThoughtStep[], next: ChainOfThoughtStep[]) => [...current, ...next] }),
  answer: z.string().optional(),
  /** "budget" when a spent budget ended the chain early (the answer is then the last step's result). */
  stopped: z.enum(["budget"]).optional(),
});
type State = typeof ChainOfThoughtState.State;

export interface ChainOfThoughtOptions {
  /** Default: the run's model. */
  model?: BaseChatModel;
  /** Most steps in the plan; a longer plan is cut (and the event says so). */
  maxSteps: number;
  /** Tools each step may use (a calculator, a search); none by default. */
  tools?: readonly AnyTool[];
  /** Most model calls one step may make with its tools. Default 4 with tools, else 1. */
  callsPerStep?: number;
  /** Added to every prompt: the domain, the answer's form. */
  instructions?: string;
  /** The compiled graph's name and the `decision` events' `by` (default "chain-of-thought"). */
  name?: string;
}

const OptionsSchema = z.object({
  model: z.unknown().optional(),
  maxSteps: z.number().int().min(1).max(50),
  tools: z.array(z.unknown()).optional(),
  callsPerStep: z.number().int().min(1).optional(),
  instructions: z.string().optional(),
  name: z.string().min(1).optional(),
});

/**
 * Chain of thought as a graph: `planning` asks the model for the steps (a structured list), `step`
 * carries them out one model call (or tool loop) at a time — each sees the task and every
 * earlier step's result — and `synthesis` writes the final answer from them. The plan and the
 * step results stay in the state; each step is its own superstep, so with a checkpointer a failed
 * run resumes at the step that failed. An empty plan falls back to the task as the only step;
 * a spent budget ends with the last step's result (`stopped: "budget"`).
 *
 * Reuses: agents (`createAgentGraph`) for every model call — the planner's `outputSchema` through
 * `withStructuredOutput` with validation and retry, tools through the ReAct loop — so calls are
 * observed, budgeted and cached; a conditional edge for the loop; `observeNode`, `reportEvent`.
 *
 * @example
 * const graph = createChainOfThoughtGraph({ maxSteps: 4, tools: [calculator] });
 * const { state } = await run(graph, { task: "Ana buys 3 packs of 12 pens and gives away 5. How many are left?" });
 * state.plan; state.steps.map((step) => step.output); state.answer;
 */
export function createChainOfThoughtGraph(options: ChainOfThoughtOptions) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid chain of thought: ${z.prettifyError(parsed.error)}. Pass { maxSteps, model?, tools? }.`);
  const { model, maxSteps, tools = [], instructions, name = "chain-of-thought" } = options;
  const callsPerStep = options.callsPerStep ?? (tools.length ? 4 : 1);
  const extra = instructions ? `\n${instructions}` : "";
  const withModel = model ? { model } : {};
  const planner = createAgentGraph(defineAgent({ name: "planner", instructions: `You plan how to solve a task step by step. Break it into at most ${maxSteps} short steps, in order, each one action whose result the next steps can use. Do not solve the steps.${extra}`, tools: [], outputSchema: ChainOfThoughtPlanSchema, maxSteps: 1, ...withModel }));
  const solver = createAgentGraph(defineAgent({ name: "step", instructions: `You carry out one step of a plan. Use the task and the results of the earlier steps; answer with this step's result only, stating any number exactly.${extra}`, tools, maxSteps: callsPerStep, ...withModel }));
  const synthesizer = createAgentGraph(defineAgent({ name: "synthesis", instructions: `You write the final answer to a task from the results of the steps that solved it. Be concise; state the final result exactly.${extra}`, tools: [], maxSteps: 1, ...withModel }));

  const plan = async (state: State, config: LangGraphRunnableConfig) => {
    let steps: string[] = [];
    let note = "";
    try {
      const result = await planner.invoke({ messages: [new HumanMessage(`Plan the steps for this task.\n\n${quote("task", state.task)}`)] }, config);
      // A step is an instruction, not a claim: citation markers a model appends to it are dropped.
      steps = result.structuredResponse!.steps.map((step) => step.replace(/(?:\s*\[[^\]\s]+\])+\s*$/, "").trim()).filter(Boolean);
    } catch (error) {
      // Without a usable plan the task itself is the one step; only a spent budget or a crash stops the chain.
      if (!(error instanceof OutputValidationError)) throw error;
      note = " (the planner's answer was invalid)";
    }
    if (steps.length === 0) {
      reportEvent(config, { type: "decision", by: name, next: "step 1", reason: `no plan${note}: the task itself is the only step` });
      return { plan: [state.task] };
    }
    const cut = steps.length > maxSteps ? `, cut from ${steps.length} to maxSteps ${maxSteps}` : "";
    reportEvent(config, { type: "decision", by: name, next: "step 1", reason: `plan of ${Math.min(steps.length, maxSteps)} step(s)${cut}` });
    return { plan: steps.slice(0, maxSteps) };
  };

  const step = async (state: State, config: LangGraphRunnableConfig) => {
    const index = state.steps.length;
    const current = state.plan[index]!;
    const prompt = [`Carry out step ${index + 1} of ${state.plan.length}: ${current}`, "", ...material(state)].join("\n");
    try {
      const result = await solver.invoke({ messages: [new HumanMessage(prompt)] }, config);
      const output = result.messages.at(-1)?.text.trim() ?? "";
      const next = index + 1 < state.plan.length ? `step ${index + 2}` : "synthesis";
      reportEvent(config, { type: "decision", by: name, next, reason: `step ${index + 1}/${state.plan.length} done` });
      return { steps: [{ index, step: current, output, modelCalls: result.steps }] };
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      return stopForBudget(state, config, `step ${index + 1}`);
    }
  };

  const synthesize = async (state: State, config: LangGraphRunnableConfig) => {
    const prompt = [`Using the step results below, give the final answer to the task: ${oneLine(state.task)}`, "", ...material(state)].join("\n");
    try {
      const result = await synthesizer.invoke({ messages: [new HumanMessage(prompt)] }, config);
      return { answer: result.messages.at(-1)?.text.trim() ?? "" };
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
      return stopForBudget(state, config, "the synthesis");
    }
  };

  const stopForBudget = (state: State, config: LangGraphRunnableConfig, at: string) => {
    reportEvent(config, { type: "decision", by: name, next: "finish", reason: `budget spent before ${at}; answering with the last step's result` });
    return { stopped: "budget" as const, answer: state.steps.at(-1)?.output ?? "" };
  };

  const afterStep = (state: State) => (state.stopped ? END : state.steps.length < state.plan.length ? "step" : "synthesis");
  const graph = new StateGraph(ChainOfThoughtState)
    // Node names differ from the state's keys (plan, steps), as LangGraph requires.
    .addNode("planning", observeNode("planning", plan))
    .addNode("step", observeNode("step", step))
    .addNode("synthesis", observeNode("synthesis", synthesize))
    .addEdge(START, "planning")
    .addEdge("planning", "step")
    .addConditionalEdges("step", afterStep, ["step", "synthesis", END])
    .addEdge("synthesis", END)
    .compile({ name });
  const inner = Math.max(...[planner, solver, synthesizer].map((agent) => stepBudgetOf(agent) ?? 0));
  // plan, every step, synthesize, the start and a spare.
  return setStepBudget(graph, Math.max(inner, maxSteps + 4));
}

/** What a step or the synthesis reads: the task and every step result so far, as quoted passages after the request. */
function material(state: State): string[] {
  return [quote("task", state.task), ...state.steps.map((done) => quote(`step-${done.index + 1}`, done.output))];
}

/**
 * A text as a quoted passage, `[id] text`: the convention Conclave's tools use for citable
 * context, so the model (the offline one included) reads it as material, not as the request.
 * Every line is marked, and passages come after the request, so no line of material reads as part of the request.
 */
function quote(id: string, text: string): string {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => `[${id}] ${line}`).join("\n") || `[${id}]`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
