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
    case "retry":
      return `${who(event.agent)} ${event.model} ${event.reason}${event.status ? ` (${event.status})` : ""}; retry ${event.attempt} in ${event.delayMs} ms`;
    case "give-up":
      return `${who(event.agent)} ${event.model} gave up after ${plural(event.attempts, "attempt")}: ${event.reason}${event.status ? ` (${event.status})` : ""}`;
    case "breaker":
      return `⚡ circuit ${event.key}: ${event.previous} → ${event.state}`;
    case "fallback":
      return `${who(event.agent)} ${event.from} failed for good (${clip(event.reason, 80)}); falling back to ${event.level === "backup" ? `model ${event.model}` : `the ${event.level}`}`;
    case "warning":
      return `⚠ ${event.message}`;
    case "error":
      return verbose ? `✖ ${event.error.message}` : undefined;
    case "approval-request":
      return `⏸ waiting for approval (${event.interruptId}): ${clip(event.summary, 160)}`;
    case "approval-decision":
      return `${event.decision === "rejected" ? "✖" : "✔"} ${event.kind === "tool" ? `call to ${event.tool ?? "a tool"}` : "final answer"} ${event.decision} by ${event.actor}${event.reason ? `: ${event.reason}` : ""}`;
    case "run-start":
      return event.resumed ? `▶ ${event.graph} (resumed from its last checkpoint)` : `▶ ${event.graph}`;
    case "run-end":
      return `${event.status === "done" ? "✔" : event.status === "interrupted" ? "⏸" : "✖"} ${event.status} in ${event.durationMs} ms · ${plural(event.usage.modelCalls, "model call")}${event.usage.retries && event.usage.modelCalls ? ` (${((event.usage.modelCalls - event.usage.cachedCalls + event.usage.retries) / event.usage.modelCalls).toFixed(2)} HTTP calls each, ${plural(event.usage.retries, "retry")})` : ""} · ${plural(event.usage.toolCalls, "tool call")} · ${event.usage.totalTokens} tokens${event.usage.costUsd ? ` · $${event.usage.costUsd.toFixed(6)}` : ""}`;
    default:
      return undefined;
  }
}

function plural(count: number, noun: string): string {
  if (count === 1) return `${count} ${noun}`;
  return `${count} ${/[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`}`;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
