import type { RunEvents } from "../events/emitter.ts";
import type { EventOf } from "../events/types.ts";
import type { AuditLog } from "./audit-log.ts";

/** Calls started but not yet ended whose arguments are kept; the oldest go first beyond this. */
const MAX_PENDING_CALLS = 1_000;

/**
 * Records a run's auditable events in `log` until the returned function is called:
 * - `tool-call-end` of a side-effecting tool → `tool-call` (tool, callId, args from its
 *   `tool-call-start`, idempotencyKey, deduplicated, error, outputChars; never the output);
 * - `approval-decision` → `approval`, with the deciding human as actor;
 * - `data-access` → `data-access` (tool, kind, resource).
 * `actor` is who the tool calls and data reads are attributed to (e.g. the OS user running the CLI).
 * A failing append throws inside the listener, which RunEvents reports on stderr without stopping the run.
 */
export function attachAudit(events: RunEvents, log: AuditLog, actor: string): () => void {
  const pendingArgs = new Map<string, unknown>();
  const key = (event: { runId: string; callId: string }) => `${event.runId}\u0000${event.callId}`;

  const onStart = (event: EventOf<"tool-call-start">) => {
    pendingArgs.set(key(event), event.args);
    if (pendingArgs.size > MAX_PENDING_CALLS) pendingArgs.delete(pendingArgs.keys().next().value!);
  };
  const onEnd = (event: EventOf<"tool-call-end">) => {
    const args = pendingArgs.get(key(event));
    pendingArgs.delete(key(event));
    if (event.sideEffects !== true) return;
    log.append({
      kind: "tool-call",
      actor,
      runId: event.runId,
      threadId: event.threadId,
      details: {
        tool: event.tool,
        callId: event.callId,
        args,
        idempotencyKey: event.idempotencyKey,
        deduplicated: event.deduplicated ?? false,
        error: event.error,
        outputChars: event.outputChars,
      },
    });
  };
  const onDecision = (event: EventOf<"approval-decision">) => {
    log.append({
      kind: "approval",
      actor: event.actor,
      runId: event.runId,
      threadId: event.threadId,
      details: { interruptId: event.interruptId, kind: event.kind, decision: event.decision, tool: event.tool, reason: event.reason, edit: event.edit },
    });
  };
  const onDataAccess = (event: EventOf<"data-access">) => {
    log.append({ kind: "data-access", actor, runId: event.runId, threadId: event.threadId, details: { tool: event.tool, kind: event.kind, resource: event.resource } });
  };

  events.on("tool-call-start", onStart);
  events.on("tool-call-end", onEnd);
  events.on("approval-decision", onDecision);
  events.on("data-access", onDataAccess);
  return () => {
    events.off("tool-call-start", onStart);
    events.off("tool-call-end", onEnd);
    events.off("approval-decision", onDecision);
    events.off("data-access", onDataAccess);
    pendingArgs.clear();
  };
}
