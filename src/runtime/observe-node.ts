import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { runContext } from "./context.ts";

/**
 * Wraps a node function so it reports `node-start` / `node-end` (with duration, and the error if
 * it threw) to the current run. Conclave's builders wrap every node they add; wrap your own nodes
 * the same way to see them in progress output and traces. Outside `run()` it costs one lookup.
 *
 * @example graph.addNode("summarise", observeNode("summarise", summarise))
 */
export function observeNode<S, U, C extends LangGraphRunnableConfig>(name: string, node: (state: S, config: C) => U | Promise<U>): (state: S, config: C) => Promise<U> {
  return async (state, config) => {
    const events = runContext(config).events;
    if (!events) return node(state, config);
    const step = typeof config?.metadata?.langgraph_step === "number" ? config.metadata.langgraph_step : 0;
    const checkpointNs = config?.metadata?.langgraph_checkpoint_ns;
    const namespace = namespaceOf(checkpointNs);
    const path = typeof checkpointNs === "string" && checkpointNs ? { path: checkpointNs } : {};
    const startedAt = Date.now();
    events.emit({ type: "node-start", node: name, step, namespace, ...path });
    try {
      const update = await node(state, config);
      events.emit({ type: "node-end", node: name, step, namespace, ...path, durationMs: Date.now() - startedAt });
      return update;
    } catch (error) {
      events.emit({ type: "node-end", node: name, step, namespace, ...path, durationMs: Date.now() - startedAt, error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  };
}

/** "team:…|research:…|model:…" → "team/research": the subgraphs a node runs inside. */
function namespaceOf(checkpointNs: unknown): string {
  if (typeof checkpointNs !== "string" || !checkpointNs.includes("|")) return "";
  return checkpointNs.split("|").slice(0, -1).map((part) => part.split(":")[0]).join("/");
}
