import { interrupt } from "@langchain/langgraph";
import type { Command } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { ApprovalDecisionError, ApprovalRequestSchema, parseDecision } from "../hitl/decisions.ts";
import type { ApprovalRequest } from "../hitl/decisions.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";

/** Who decided, as the decision said (`conclave approve --as`, or `actor` in `resume`'s decisions). */
export interface GateActor {
  actor: string;
}

/** What a handler returns: a state update, or a `Command` that also routes (declare the targets with `addNode(name, gate, { ends })`). */
export type GateUpdate<S> = Partial<S> | Command;

export interface ApprovalGateOptions<S> {
  /** The node's name, shown in events and as the approval's `tool` (default "approval-gate"). */
  name?: string;
  /** What the reviewer reads in `conclave pending` and the `approval-request` event. */
  summarize: (state: S) => string;
  /** What an edit replaces, shown to the reviewer as the approval's `args` (e.g. the draft, or the refund). */
  proposal?: (state: S) => unknown;
  /** Checks an edit before `onEdit` sees it; a bad edit fails with `ApprovalDecisionError` saying what was expected. */
  editSchema?: z.ZodType;
  /** Whether to ask at all (default: always). When it says no, the gate passes the state on unchanged. */
  when?: (state: S) => boolean;
  /** The state update (or `Command`) on approval (default: no change). */
  onApprove?: (state: S, decision: GateActor) => GateUpdate<S>;
  /** The state update (or `Command`) on rejection. */
  onReject: (state: S, decision: GateActor & { reason: string }) => GateUpdate<S>;
  /** The state update (or `Command`) for an edit: the reviewer's replacement for the proposal. */
  onEdit: (state: S, decision: GateActor & { edit: unknown }) => GateUpdate<S>;
}

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", `must be a function ${what}`);
const OptionsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 letters, digits, "_" or "-"').optional(),
  summarize: fn("(state) => string"),
  proposal: fn("(state) => value").optional(),
  editSchema: z.custom<z.ZodType>((value) => value instanceof z.ZodType, "must be a zod schema").optional(),
  when: fn("(state) => boolean").optional(),
  onApprove: fn("(state, { actor }) => update").optional(),
  onReject: fn("(state, { reason, actor }) => update"),
  onEdit: fn("(state, { edit, actor }) => update"),
});

/**
 * A human-in-the-loop gate to drop into any graph as a node: it pauses the run with LangGraph's
 * `interrupt()` carrying a Conclave approval request (`ApprovalRequestSchema`: kind "tool", named
 * after the gate, with the summary and the proposal), so `run()` returns `status: "interrupted"`
 * with it pending and `conclave pending / approve / reject` work unchanged. On
 * `resume(graph, { decisions })` LangGraph re-runs the node, `interrupt()` returns the decision
 * (checked by `parseDecision`), and the gate returns `onApprove` / `onEdit` / `onReject`'s update —
 * a plain state update, or a `Command` to route elsewhere. Needs a checkpointer, as every interrupt does.
 *
 * @example
 * graph.addNode("review", approvalGate({
 *   summarize: (state) => `send refund of $${state.refund.amount} to ${state.refund.customer}`,
 *   proposal: (state) => state.refund,
 *   onEdit: (state, { edit }) => ({ refund: edit }),
 *   onReject: (state, { reason }) => ({ status: "refused", note: reason }),
 * }));
 */
export function approvalGate<S>(options: ApprovalGateOptions<S>): (state: S, config: LangGraphRunnableConfig) => Promise<GateUpdate<S>> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid approval gate: ${z.prettifyError(parsed.error)}. Pass { summarize(state), onReject(state, { reason }), onEdit(state, { edit }) }.`);
  const { name = "approval-gate", summarize, proposal, editSchema, when, onApprove, onReject, onEdit } = options;

  const gate = async (state: S, config: LangGraphRunnableConfig): Promise<GateUpdate<S>> => {
    if (when && !when(state)) {
      reportEvent(config, { type: "decision", by: name, next: "continue", reason: "no approval needed for this state" });
      return {};
    }
    const offered = proposal?.(state);
    const request: ApprovalRequest = ApprovalRequestSchema.parse({ type: "conclave.approval", kind: "tool", tool: name, ...(offered === undefined ? {} : { args: offered }), summary: summarize(state) });
    // The first time through this throws (LangGraph saves the pause); on resume it returns the decision.
    const decision = parseDecision(interrupt(request));
    if (decision.decision === "approve") {
      reportEvent(config, { type: "decision", by: name, next: "approved", reason: `approved by ${decision.actor}` });
      return onApprove ? onApprove(state, { actor: decision.actor }) : {};
    }
    if (decision.decision === "reject") {
      reportEvent(config, { type: "decision", by: name, next: "rejected", reason: `rejected by ${decision.actor}: ${decision.reason}` });
      return onReject(state, { reason: decision.reason, actor: decision.actor });
    }
    let edit = decision.edit;
    if (editSchema) {
      const checked = editSchema.safeParse(edit);
      if (!checked.success) throw new ApprovalDecisionError(`The edit for "${name}" does not match what it replaces: ${z.prettifyError(checked.error)}. Approve again with --edit JSON that matches it (the pending approval's args show the current value).`, { gate: name });
      edit = checked.data;
    }
    reportEvent(config, { type: "decision", by: name, next: "edited", reason: `edited by ${decision.actor}` });
    return onEdit(state, { edit, actor: decision.actor });
  };
  return observeNode(name, gate);
}
