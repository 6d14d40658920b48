import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { budgetExceeded, reportEvent, runContext } from "conclave";
import type { TeamUpdate } from "./state.ts";

/** The update a node returns when a refused call ended its work: the run finishes, and says why. */
export function budgetStop(config: LangGraphRunnableConfig, round: number, extra: TeamUpdate = {}): TeamUpdate {
  reportEvent(config, { type: "decision", by: "coordinator", next: "finish", round, reason: budgetReason(config) });
  return { ...extra, terminationReason: "budget" };
}

/** Which budget stopped the run, with the numbers. */
export function budgetReason(config: LangGraphRunnableConfig): string {
  const { budget, usage, startedAt } = runContext(config);
  const spent = budget && usage ? budgetExceeded(budget, usage, startedAt === undefined ? 0 : Date.now() - startedAt) : undefined;
  return spent ? `the run's ${spent.limit} budget is spent (${spent.used} of ${spent.allowed}); answering with the best result so far` : "the run's budget is spent; answering with the best result so far";
}

