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
  /** Most USD spent on model calls in the run, priced by the run's price table. */
  maxCostUsd?: number;
  /** Most wall-clock time for the run; no model call starts after it. */
  maxWallTimeMs?: number;
}

export type BudgetLimit = "maxModelCalls" | "maxTokens" | "maxCostUsd" | "maxWallTimeMs";

const LIMITS: Record<BudgetLimit, { flag: string; unit: (value: number) => string }> = {
  maxModelCalls: { flag: "--max-model-calls", unit: (value) => `${value} model calls` },
  maxTokens: { flag: "--max-tokens", unit: (value) => `${value} tokens` },
  maxCostUsd: { flag: "--max-cost", unit: (value) => `$${value.toFixed(6)}` },
  maxWallTimeMs: { flag: "--max-time", unit: (value) => `${(value / 1000).toFixed(1)} s` },
};

/**
 * A model call was refused because the run's budget is spent. Graphs that can end gracefully
 * catch it (`isBudgetExceeded`) and finish with their best result so far.
 */
export class BudgetExceededError extends ConclaveError {
  override name = "BudgetExceededError";
  /** The conversation of the agent whose call was refused, so its work so far is not lost (set by agent graphs). */
  partialState?: { messages: unknown[]; steps: number };
  constructor(limit: BudgetLimit, allowed: number, used: number) {
    const { flag, unit } = LIMITS[limit];
    super("BUDGET_EXCEEDED", "user", `The run's budget is spent: ${unit(used)} used of ${unit(allowed)} allowed (${limit}). Raise it with ${flag} or the run's budget option.`, { details: { limit, allowed, used } });
  }
}

export function isBudgetExceeded(error: unknown): error is BudgetExceededError {
  return error instanceof BudgetExceededError || (error instanceof Error && (error as { code?: unknown }).code === "BUDGET_EXCEEDED");
}

const NOTHING_TO_RELEASE = () => undefined;

/**
 * Reserves one model call against the run's budget, or throws BudgetExceededError. Calls in
 * flight count as spent at their estimate (prompt plus room for the answer, and its price), so
 * parallel branches cannot all pass the check at once; the reservation is released when the call
 * ends and its real usage is counted. A call is admitted while the spend so far is under a cap,
 * so the last call admitted may end past a token or cost cap by its own size.
 */
export function reserveModelCall(config: LangGraphRunnableConfig | undefined, estimate: { tokens: number; costUsd: number } = { tokens: 0, costUsd: 0 }): () => void {
  const { budget, usage, inFlight, startedAt } = runContext(config);
  if (!budget || !usage || !inFlight) return NOTHING_TO_RELEASE;
  const projected = { ...usage, modelCalls: usage.modelCalls + inFlight.modelCalls, totalTokens: usage.totalTokens + inFlight.tokens, costUsd: usage.costUsd + inFlight.costUsd };
  const exceeded = budgetExceeded(budget, projected, startedAt === undefined ? 0 : Date.now() - startedAt);
  if (exceeded) throw new BudgetExceededError(exceeded.limit, exceeded.allowed, exceeded.used);
  inFlight.modelCalls += 1;
  inFlight.tokens += estimate.tokens;
  inFlight.costUsd += estimate.costUsd;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inFlight.modelCalls -= 1;
    inFlight.tokens -= estimate.tokens;
    inFlight.costUsd -= estimate.costUsd;
  };
}

/** Which cap, if any, the usage (and the run's elapsed time) has reached. */
export function budgetExceeded(budget: RunBudget, usage: RunUsage, elapsedMs = 0): { limit: BudgetLimit; allowed: number; used: number } | undefined {
  if (budget.maxModelCalls !== undefined && usage.modelCalls >= budget.maxModelCalls) return { limit: "maxModelCalls", allowed: budget.maxModelCalls, used: usage.modelCalls };
  if (budget.maxTokens !== undefined && usage.totalTokens >= budget.maxTokens) return { limit: "maxTokens", allowed: budget.maxTokens, used: usage.totalTokens };
  if (budget.maxCostUsd !== undefined && usage.costUsd >= budget.maxCostUsd) return { limit: "maxCostUsd", allowed: budget.maxCostUsd, used: usage.costUsd };
  if (budget.maxWallTimeMs !== undefined && elapsedMs >= budget.maxWallTimeMs) return { limit: "maxWallTimeMs", allowed: budget.maxWallTimeMs, used: elapsedMs };
  return undefined;
}
