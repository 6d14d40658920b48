import { HumanMessage } from "@langchain/core/messages";
import { END, ReducedValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import type { Agent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { withRound } from "../models/observe.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";
import { majority, normalizeAnswer, summarize } from "./answers.ts";

/** One solver's answer in one round. */
export const SolverAnswerSchema = z.object({
  solver: z.string(),
  round: z.number().int(),
  text: z.string(),
  normalized: z.string(),
  /** Model calls this answer took. */
  modelCalls: z.number().int(),
  /** Why the solver gave no answer (step limit, budget). */
  error: z.string().optional(),
});

/** The agreement measured at the end of a round. */
export const DebateRoundSchema = z.object({
  round: z.number().int(),
  /** Share of solvers whose normalised answer is the round's majority answer. */
  agreement: z.number(),
  majority: z.string(),
  distinctAnswers: z.number().int(),
  /** Solvers whose answer differs from their previous round's. */
  changed: z.number().int(),
});

export const DebateVerdictSchema = z.object({
  answer: z.string(),
  normalized: z.string(),
  method: z.enum(["consensus", "majority", "judge"]),
  agreement: z.number(),
  /** Model calls the judge made (0 without one). */
  judgeCalls: z.number().int().default(0),
});

export type SolverAnswer = z.infer<typeof SolverAnswerSchema>;
export type DebateRound = z.infer<typeof DebateRoundSchema>;
export type DebateTermination = "consensus" | "no-change" | "max-rounds" | "budget";

const append = <T>(schema: z.ZodType<T>) => new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });

/** The state of a panel debate. `answers` and `rounds` keep the whole history. */
export const DebateState = new StateSchema({
  question: z.string(),
  round: z.number().int().default(0),
  answers: append(SolverAnswerSchema),
  rounds: append(DebateRoundSchema),
  final: DebateVerdictSchema.optional(),
  terminationReason: z.enum(["consensus", "no-change", "max-rounds", "budget"]).optional(),
});
type State = typeof DebateState.State;

export interface DebateOptions {
  /** The panel (at least two). Give each its own name: it labels answers and events. */
  solvers: readonly Agent<z.ZodType | undefined>[];
  /** Most rounds, the first (independent answers) included. Default 2. */
  maxRounds?: number;
  /** How the final answer is chosen when the panel does not agree: majority vote (default) or a judge agent. */
  aggregate?: "majority" | "judge";
  /** The judge, for `aggregate: "judge"`: it reads the final answers, each marked `[solver-name]`. */
  judge?: Agent<z.ZodType | undefined>;
  /** How answers are compared (default `normalizeAnswer`: the marked or last number, else the first sentence). */
  normalize?: (answer: string) => string;
  /** Other solvers' answers longer than this many characters are summarised before a solver reads them. Default 600. */
  summarizeOver?: number;
}

interface SolveTask {
  question: string;
  round: number;
  solver: number;
  previous: SolverAnswer[];
}

/**
 * A panel debate (Du et al. 2023): N solvers answer independently; each later round every solver
 * reads the others' previous answers (summarised when long) and revises. A round ends with the
 * agreement measured (`round-end`); the debate stops early on consensus or when nobody changes,
 * and ends by majority vote or a judge. Answers record their model calls, so a debate can be
 * compared with voting or self-consistency at the same number of calls.
 */
export function createDebateGraph(options: DebateOptions) {
  const { solvers, maxRounds = 2, aggregate = "majority", judge, normalize = normalizeAnswer, summarizeOver = 600 } = options;
  if (solvers.length < 2) throw new DefinitionError(`A debate needs at least two solvers; got ${solvers.length}.`);
  if (new Set(solvers.map((solver) => solver.name)).size !== solvers.length) throw new DefinitionError("Debate solvers need distinct names: they label answers and events.");
  if (!Number.isInteger(maxRounds) || maxRounds < 1) throw new DefinitionError(`maxRounds must be a whole number of at least 1; got ${maxRounds}.`);
  if (aggregate === "judge" && !judge) throw new DefinitionError('aggregate: "judge" needs a judge agent.');
  const solverGraphs = solvers.map((solver) => createAgentGraph(solver));
  const judgeGraph = judge ? createAgentGraph(judge) : undefined;

  const fanOut = (state: State) =>
    solvers.map((_, solver) => new Send("solve", { question: state.question, round: state.round + 1, solver, previous: state.answers.filter((answer) => answer.round === state.round) } satisfies SolveTask));

  const solve = async (task: SolveTask, config: LangGraphRunnableConfig) => {
    const agent = solvers[task.solver]!;
    const prompt = task.round === 1 ? task.question : debatePrompt(task, agent.name, summarizeOver);
    let entry: SolverAnswer;
    try {
      const result = await solverGraphs[task.solver]!.invoke({ messages: [new HumanMessage(prompt)] }, withRound(config, task.round));
      const text = result.messages.at(-1)?.text.trim() ?? "";
      entry = { solver: agent.name, round: task.round, text, normalized: normalize(text), modelCalls: result.steps };
    } catch (error) {
      // A solver that runs out of steps or budget abstains; the panel goes on without it.
      if (!(error instanceof MaxStepsExceededError) && !isBudgetExceeded(error)) throw error;
      const modelCalls = error instanceof MaxStepsExceededError ? agent.maxSteps : 0;
      entry = { solver: agent.name, round: task.round, text: "", normalized: "", modelCalls, error: isBudgetExceeded(error) ? "budget" : "max-steps" };
    }
    return { answers: [entry] };
  };

  const tally = (state: State, config: LangGraphRunnableConfig) => {
    const round = Math.max(...state.answers.map((answer) => answer.round));
    const current = state.answers.filter((answer) => answer.round === round);
    const voted = current.filter((answer) => !answer.error).map((answer) => answer.normalized);
    const top = majority(voted);
    const previous = new Map(state.answers.filter((answer) => answer.round === round - 1).map((answer) => [answer.solver, answer.normalized]));
    const changed = round === 1 ? current.length : current.filter((answer) => previous.get(answer.solver) !== answer.normalized).length;
    const record: DebateRound = { round, agreement: top.count / solvers.length, majority: top.value ?? "", distinctAnswers: new Set(voted).size, changed };
    const calls = current.reduce((sum, answer) => sum + answer.modelCalls, 0);
    reportEvent(config, {
      type: "round-end",
      loop: "debate",
      round,
      measures: { agreement: record.agreement, distinctAnswers: record.distinctAnswers, changed, modelCalls: calls },
      summary: `agreement ${top.count}/${solvers.length} on "${record.majority}" · ${record.distinctAnswers} distinct · ${round === 1 ? "first answers" : `${changed} changed`} · ${calls} model calls`,
    });
    const stop: DebateTermination | undefined =
      current.some((answer) => answer.error === "budget") ? "budget"
      : record.agreement === 1 ? "consensus"
      : round > 1 && changed === 0 ? "no-change"
      : round >= maxRounds ? "max-rounds"
      : undefined;
    reportEvent(config, { type: "decision", by: "debate", next: stop ? "finish" : `round ${round + 1}`, round, reason: stop ? `stop: ${stop}` : `agreement ${record.agreement.toFixed(2)} < 1, rounds left` });
    return { round, rounds: [record], ...(stop ? { terminationReason: stop } : {}) };
  };

  const decide = async (state: State, config: LangGraphRunnableConfig) => {
    // A round the budget cut short is no better than the last whole one: decide on the most agreed round.
    const last = state.terminationReason === "budget" ? state.rounds.reduce((best, round) => (round.agreement >= best.agreement ? round : best)) : state.rounds.at(-1)!;
    const finalAnswers = state.answers.filter((answer) => answer.round === last.round && !answer.error);
    const chosen = finalAnswers.find((answer) => answer.normalized === last.majority);
    const vote = { answer: chosen?.text ?? "", normalized: last.majority, method: last.agreement === 1 ? ("consensus" as const) : ("majority" as const), agreement: last.agreement, judgeCalls: 0 };
    if (last.agreement === 1 || aggregate === "majority" || !judgeGraph) return { final: vote };
    const candidates = finalAnswers.map((answer) => `[${answer.solver}] ${summarize(answer.text, summarizeOver)}`).join("\n");
    try {
      const result = await judgeGraph.invoke({ messages: [new HumanMessage(`Question: ${state.question}\nCandidate answers:\n${candidates}\nWhich answer is correct? Reply with the correct answer.`)] }, config);
      const text = result.messages.at(-1)?.text.trim() ?? "";
      return { final: { answer: text, normalized: normalize(text), method: "judge" as const, agreement: last.agreement, judgeCalls: result.steps } };
    } catch (error) {
      // A judge out of budget or steps must not lose the panel's work: the majority stands.
      if (!isBudgetExceeded(error) && !(error instanceof MaxStepsExceededError)) throw error;
      reportEvent(config, { type: "decision", by: "debate", next: "finish", reason: `the judge could not decide (${error.message.slice(0, 80)}); the majority answer stands` });
      return { final: vote };
    }
  };

  const graph = new StateGraph(DebateState)
    // Send delivers a SolveTask rather than the graph state to "solve".
    .addNode("solve", observeNode("solve", solve) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<{ answers: SolverAnswer[] }>)
    .addNode("tally", observeNode("tally", tally))
    .addNode("decide", observeNode("decide", decide))
    .addConditionalEdges(START, fanOut, ["solve"])
    .addEdge("solve", "tally")
    .addConditionalEdges("tally", (state: State) => (state.terminationReason ? "decide" : fanOut(state)), ["solve", "decide"])
    .addEdge("decide", END)
    .compile({ name: "debate" });
  const inner = Math.max(...[...solverGraphs, ...(judgeGraph ? [judgeGraph] : [])].map((agentGraph) => stepBudgetOf(agentGraph) ?? 0));
  return setStepBudget(graph, Math.max(inner, maxRounds * 2 + 4));
}

function debatePrompt(task: SolveTask, self: string, summarizeOver: number): string {
  const mine = task.previous.find((answer) => answer.solver === self);
  const others = task.previous.filter((answer) => answer.solver !== self && !answer.error);
  return [
    task.question,
    "",
    "Other agents answered in the previous round:",
    ...others.map((answer) => `(${answer.solver}) ${summarize(answer.text, summarizeOver)}`),
    ...(mine?.text ? ["", `Your previous answer: ${summarize(mine.text, summarizeOver)}`] : []),
    "",
    "Using their answers as additional advice, check your reasoning and give your updated answer.",
  ].join("\n");
}
