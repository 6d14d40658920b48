import { UsageError } from "../../errors.ts";
import type { ApprovalDecision } from "../../hitl/decisions.ts";
import { parseCommandArgs } from "../args.ts";
import { continueThread } from "../execute.ts";
import type { CliIO } from "../output.ts";
import { requireThread, withWorkspace } from "./threads.ts";

const DECIDE_OPTIONS = {
  id: { type: "string", multiple: true },
  edit: { type: "string" },
  reason: { type: "string" },
  as: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
  verbose: { type: "boolean" },
} as const;

/** `conclave approve THREAD [--id ID] [--edit JSON]`: approves (or edits) pending approvals and continues the run. */
export function approveCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  return decide("approve", argv, io, signal);
}

/** `conclave reject THREAD --reason …`: refuses pending approvals and continues the run without them. */
export function rejectCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  return decide("reject", argv, io, signal);
}

async function decide(command: "approve" | "reject", argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, argv, DECIDE_OPTIONS);
  const threadId = positionals[0];
  if (!threadId) throw new UsageError(`conclave ${command}: missing the thread id. Usage: conclave ${command} THREAD${command === "reject" ? ' --reason "why"' : " [--edit JSON]"} ("conclave pending" lists what waits).`);
  if (command === "reject" && !values.reason?.trim()) throw new UsageError(`conclave reject: say why with --reason "…": the model is told, and the audit log keeps it.`);
  if (command === "reject" && values.edit) throw new UsageError("conclave reject: --edit goes with approve, not reject.");
  return withWorkspace(io, values.config, async (workspace) => {
    const thread = requireThread(workspace, command, threadId);
    if (thread.status !== "interrupted" || thread.pending.length === 0) throw new UsageError(`conclave ${command}: thread "${threadId}" is ${thread.status}, not waiting for an approval.${thread.status === "failed" ? ` Resume it with conclave run --thread ${threadId}.` : ""}`);
    const ids = values.id ?? [];
    for (const id of ids) {
      if (!thread.pending.some((approval) => approval.interruptId === id)) throw new UsageError(`conclave ${command}: thread "${threadId}" has no pending approval "${id}". Pending: ${thread.pending.map((approval) => `${approval.interruptId} (${approval.request.summary.slice(0, 60)})`).join("; ")}.`);
    }
    const chosen = ids.length ? thread.pending.filter((approval) => ids.includes(approval.interruptId)) : thread.pending;
    if (values.edit !== undefined && chosen.length > 1) throw new UsageError(`conclave approve: --edit applies to one approval, and ${chosen.length} are pending. Name it with --id (see "conclave pending").`);
    const decision = decisionOf(command, values, workspace.actor);
    const decisions: Record<string, ApprovalDecision> = Object.fromEntries(chosen.map((approval) => [approval.interruptId, decision]));
    return continueThread(thread, { kind: "resume", decisions }, { workspace, io, signal }, values);
  }, values.as ? { actor: values.as } : {});
}

function decisionOf(command: "approve" | "reject", values: { edit?: string; reason?: string }, actor: string): ApprovalDecision {
  if (command === "reject") return { decision: "reject", reason: values.reason!.trim(), actor };
  if (values.edit === undefined) return { decision: "approve", actor };
  try {
    return { decision: "edit", edit: JSON.parse(values.edit) as unknown, actor };
  } catch (error) {
    throw new UsageError(`conclave approve: --edit must be JSON (tool arguments as an object, e.g. '{"to":"ana@example.com"}', or an answer as a string, e.g. '"The answer."'): ${(error as Error).message}.`);
  }
}
