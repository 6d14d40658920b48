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

/**
 * The step budget of `graph`: the largest recorded on it or on any subgraph it contains as a node
 * (LangGraph applies the limit to each graph level separately), if any is recorded.
 */
export function stepBudgetOf(graph: object): number | undefined {
  const own = (graph as Record<symbol, unknown>)[STEP_BUDGET];
  let budget = typeof own === "number" ? own : undefined;
  const nested = (graph as { getSubgraphs?: (namespace?: string, recurse?: boolean) => Generator<[string, object]> }).getSubgraphs;
  if (typeof nested === "function") {
    for (const [, subgraph] of nested.call(graph, undefined, true)) {
      const value = (subgraph as Record<symbol, unknown>)[STEP_BUDGET];
      if (typeof value === "number") budget = Math.max(budget ?? 0, value);
    }
  }
  return budget;
}
