import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { ConclaveError } from "../errors.ts";
import type { RunUsage } from "../events/types.ts";
import { runContext } from "./context.ts";

/** Per-run caps, shared by every agent and round of the run. */
export interface RunBudget {
  /** Most model calls in the whole run. */
  maxModelCalls?: number;
  /** Most tokens (input + output) in the whole run. A call is refused once the total is reached, so the last call may overshoot. */
  maxTokens?: number;
}

/**
 * A model call was refused because the run's budget is spent. Graphs that can end gracefully
 * catch it (`isBudgetExceeded`) and finish with their best result so far.
 */
export class BudgetExceededError extends ConclaveError {
  override name = "BudgetExceededError";
  constructor(limit: "maxModelCalls" | "maxTokens", allowed: number, used: number) {
    const flag = limit === "maxModelCalls" ? "--max-model-calls" : "--max-tokens";
    super("BUDGET_EXCEEDED", "user", `The run's budget is spent: ${used} ${limit === "maxModelCalls" ? "model calls" : "tokens"} used of ${allowed} allowed (${limit}). Raise it with ${flag} or the run's budget option.`, { details: { limit, allowed, used } });
  }
}

export function isBudgetExceeded(error: unknown): error is BudgetExceededError {
  return error instanceof BudgetExceededError || (error instanceof Error && (error as { code?: unknown }).code === "BUDGET_EXCEEDED");
}

const NOTHING_TO_RELEASE = () => undefined;

/**
 * Reserves one model call against the run's budget, or throws BudgetExceededError. Calls in flight
 * count as spent (with the run's average tokens per call), so parallel branches cannot all pass
 * the check at once; call the returned function when the call has ended (its usage is then
 * counted). The last call admitted may still end past a token cap by its own size.
 */
export function reserveModelCall(config: LangGraphRunnableConfig | undefined): () => void {
  const { budget, usage, inFlight } = runContext(config);
  if (!budget || !usage || !inFlight) return NOTHING_TO_RELEASE;
  // Calls in flight count as spent: one call each, and the run's average tokens per call each.
  const averageTokens = usage.modelCalls > 0 ? usage.totalTokens / usage.modelCalls : 0;
  const exceeded = budgetExceeded(budget, { ...usage, modelCalls: usage.modelCalls + inFlight.modelCalls, totalTokens: Math.round(usage.totalTokens + inFlight.modelCalls * averageTokens) });
  if (exceeded) throw new BudgetExceededError(exceeded.limit, exceeded.allowed, exceeded.used);
  inFlight.modelCalls += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inFlight.modelCalls -= 1;
  };
}

/** Which cap, if any, the usage has reached. */
export function budgetExceeded(budget: RunBudget, usage: RunUsage): { limit: "maxModelCalls" | "maxTokens"; allowed: number; used: number } | undefined {
  if (budget.maxModelCalls !== undefined && usage.modelCalls >= budget.maxModelCalls) return { limit: "maxModelCalls", allowed: budget.maxModelCalls, used: usage.modelCalls };
  if (budget.maxTokens !== undefined && usage.totalTokens >= budget.maxTokens) return { limit: "maxTokens", allowed: budget.maxTokens, used: usage.totalTokens };
  return undefined;
}
