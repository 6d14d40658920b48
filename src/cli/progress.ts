import { FINAL_ANSWER_TOOL } from "../agent/agent-graph.ts";
import type { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent, ModelInfo } from "../events/types.ts";

/** One line that says which model answers, and loudly when it is the offline one. */
export function modelBanner(model: ModelInfo, endpoint?: string): string {
  if (model.offline) {
    return `model: ${model.name} (offline — the built-in deterministic model: no network, answers only from tool results; set OPENAI_BASE_URL or OPENAI_API_KEY for a real model)`;
  }
  return `model: ${model.name} via ${model.provider}${endpoint ? ` at ${endpoint}` : ""}`;
}

/**
 * Prints a run's progress on stderr as it happens: each tool call with its arguments, each
 * observation's size, each model call's tokens; with `verbose`, nodes too.
 */
export function attachProgress(events: RunEvents, write: (line: string) => void, options: { verbose: boolean }): () => void {
  const listener = (event: ConclaveEvent) => {
    const line = describe(event, options.verbose);
    if (line) write(`${line}\n`);
  };
  events.on("event", listener);
  return () => events.off("event", listener);
}

function describe(event: ConclaveEvent, verbose: boolean): string | undefined {
  const who = (agent?: string, node?: string, where: { round?: number; task?: string } = {}) =>
    // A task id that already names its round ("r2c1") stands alone.
    `[${[agent ?? node ?? "graph", where.round !== undefined && !where.task?.startsWith(`r${where.round}`) ? `r${where.round}` : "", where.task ?? ""].filter(Boolean).join(" ")}]`;
  switch (event.type) {
    case "run-start":
      return `▶ ${event.graph}`;
    case "node-start":
      return verbose ? `  · ${event.namespace ? `${event.namespace}/` : ""}${event.node} (step ${event.step})` : undefined;
    case "node-end":
      return verbose || event.error ? `  · ${event.node} done in ${event.durationMs} ms${event.error ? ` — failed: ${event.error}` : ""}` : undefined;
    case "llm-call-start":
      return verbose ? `${who(event.agent, event.node, event)} thinking (${event.model}, ${event.messageCount} messages)…` : undefined;
    case "llm-call-end": {
      if (event.error) return `${who(event.agent, event.node, event)} model call failed after ${event.latencyMs} ms: ${event.error}`;
      const structured = event.toolCalls.length > 0 && event.toolCalls.every((call) => call.name === FINAL_ANSWER_TOOL);
      const calls = structured ? ", structured answer" : event.toolCalls.length ? `, ${plural(event.toolCalls.length, "tool call")}` : ", answered";
      return `${who(event.agent, event.node, event)} ${event.model}: ${event.usage.inputTokens} in / ${event.usage.outputTokens} out tokens${calls} (${event.latencyMs} ms)`;
    }
    case "tool-call-start":
      return `${who(event.agent, event.node, event)} → ${event.tool} ${clip(JSON.stringify(event.args ?? {}), 160)}`;
    case "tool-call-end":
      return event.error
        ? `${who(event.agent, event.node, event)} ← ${event.tool} error: ${clip(event.error, 200)} (${event.latencyMs} ms)`
        : `${who(event.agent, event.node, event)} ← ${event.tool} ${event.outputChars} chars (${event.latencyMs} ms)`;
    case "decision":
      return `[${event.by}] ${event.next === "finish" ? "finish" : `→ ${event.next}`}${event.round !== undefined ? ` (round ${event.round})` : ""}: ${event.reason}`;
    case "round-end":
      return `── ${event.loop} round ${event.round}: ${event.summary}`;
    case "error":
      return verbose ? `✖ ${event.error.message}` : undefined;
    case "run-end":
      return `${event.status === "done" ? "✔" : "✖"} ${event.status} in ${event.durationMs} ms · ${plural(event.usage.modelCalls, "model call")} · ${plural(event.usage.toolCalls, "tool call")} · ${event.usage.totalTokens} tokens`;
    default:
      return undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
