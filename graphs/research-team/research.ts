import { HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { MaxStepsExceededError, OutputValidationError, answerFromMessages, isBudgetExceeded, reportEvent, runContext, withRound } from "conclave";
import type { TeamAgents } from "./agents.ts";
import { budgetStop } from "./stop.ts";
import { findingsFrom, findingsFromObservations, observedSources } from "./findings.ts";
import type { TeamStateType, TeamUpdate } from "./state.ts";

/** Coordinator: turns the task into sub-questions (falls back to the task itself when the plan is empty or invalid). */
export function planNode(agents: TeamAgents, maxSubQuestions: number) {
  return async (state: TeamStateType, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    if (budgetIsTight(config)) {
      reportEvent(config, { type: "decision", by: "coordinator", next: "research", round: 1, reason: "the budget is tight; researching the task itself without a planning call" });
      return { plan: [{ id: "q1", question: state.task }], round: 1 };
    }
    let questions: string[] = [];
    let note = "";
    try {
      const result = await agents.planner.invoke({ messages: [new HumanMessage(`Task: ${state.task}`)] }, withRound(config, 1));
      questions = (result.structuredResponse?.subQuestions ?? []).map((item) => item.question.trim()).filter(Boolean);
    } catch (error) {
      if (isBudgetExceeded(error)) return budgetStop(config, 1, { plan: [{ id: "q1", question: state.task }], round: 1 });
      if (!(error instanceof OutputValidationError) && !(error instanceof MaxStepsExceededError)) throw error;
      note = ` (the planner gave no valid plan: ${error.message.slice(0, 120)})`;
    }
    const unique = [...new Set(questions)].slice(0, maxSubQuestions);
    const plan = (unique.length ? unique : [state.task]).map((question, index) => ({ id: `q${index + 1}`, question }));
    const reason = unique.length ? `${plan.length} sub-question${plan.length > 1 ? "s" : ""}; researching them in parallel` : `no decomposition needed; researching the task itself${note}`;
    reportEvent(config, { type: "decision", by: "coordinator", next: "research", round: 1, reason });
    return { plan, round: 1 };
  };
}

/** Too little budget left for a planning call to pay off: research, write and check get it instead. */
function budgetIsTight(config: LangGraphRunnableConfig): boolean {
  const { budget, usage } = runContext(config);
  if (!budget || !usage) return false;
  return (budget.maxModelCalls !== undefined && budget.maxModelCalls - usage.modelCalls < 6) || (budget.maxTokens !== undefined && budget.maxTokens - usage.totalTokens < 4_000);
}

/** What one research task receives through `Send`. */
export interface ResearchTask {
  item: { id: string; question: string };
  round: number;
}

/** Research: a ReAct run on one sub-question; its cited claims become findings (invented source ids are rejected). */
export function researchNode(agents: TeamAgents) {
  return async ({ item, round }: ResearchTask, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    let messages: BaseMessage[];
    try {
      messages = (await agents.research.invoke({ messages: [new HumanMessage(item.question)] }, withRound(config, round, item.id))).messages;
    } catch (error) {
      if (isBudgetExceeded(error)) {
        // Out of budget mid-research: the passages already retrieved are the best result there is.
        const seen = observedSources((error.partialState?.messages ?? []) as BaseMessage[]);
        const findings = findingsFromObservations(item.question, seen, { agent: "research", round, subQuestion: item.id });
        return budgetStop(config, round, { findings, incidents: [`the budget ran out while researching ${item.id}; ${findings.length} finding(s) taken from the passages it had retrieved`] });
      }
      if (!(error instanceof MaxStepsExceededError)) throw error;
      // Out of steps: there is no answer to take findings from, so this sub-question adds none.
      messages = (error.partialState as { messages: BaseMessage[] }).messages;
      reportEvent(config, { type: "decision", by: "coordinator", next: "writing", round, reason: `research on ${item.id} used all its steps without an answer; it adds no findings` });
      return { incidents: [`research on ${item.id} ("${item.question}") used all its steps without an answer`] };
    }
    const { answer } = answerFromMessages(messages);
    const { findings, rejected } = findingsFrom(answer, observedSources(messages), { agent: "research", round, subQuestion: item.id });
    const incidents = rejected.length ? [`research on ${item.id} cited sources it never saw: ${rejected.join(", ")}`] : [];
    if (rejected.length) reportEvent(config, { type: "decision", by: "coordinator", next: "writing", round, reason: `dropped ${rejected.length} citation(s) research made to sources it never saw: ${rejected.join(", ")}` });
    return { findings, rejectedCitations: rejected, incidents };
  };
}
