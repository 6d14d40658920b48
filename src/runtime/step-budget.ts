/**
 * LangGraph stops a run after `recursionLimit` supersteps (default 25), which is too few for some
 * agents and too many for others. Builders record the budget their graph needs on the graph
 * itself, and `run()` derives the limit from it instead of leaving LangGraph's default. A global
 * symbol keeps this working when a user's graph and the CLI load separate copies of Conclave.
 */
const STEP_BUDGET = Symbol.for("conclave.stepBudget");

/** Records how many supersteps `graph` needs at most. */
export function setStepBudget<G extends object>(graph: G, steps: number): G {
  Object.defineProperty(graph, STEP_BUDGET, { value: Math.max(1, Math.ceil(steps)), configurable: true, enumerable: false });
  return graph;
}

/** The step budget recorded for `graph`, if any. */
export function stepBudgetOf(graph: object): number | undefined {
  const value = (graph as Record<symbol, unknown>)[STEP_BUDGET];
  return typeof value === "number" ? value : undefined;
}
