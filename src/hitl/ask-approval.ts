import { interrupt } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ToolExecutionError } from "../tool/errors.ts";
import { runContext } from "../runtime/context.ts";
import type { ApprovalRequest } from "./decisions.ts";
import { parseDecision } from "./decisions.ts";

/**
 * Pauses the run (LangGraph `interrupt()`) until a human approves, edits or rejects a tool call.
 * On resume LangGraph re-runs the node and `interrupt()` returns the decision: the call then runs
 * (with edited arguments, checked against the schema) or the model is told it was refused.
 */
export async function askApproval<S extends z.ZodObject>(tool: string, schema: S, args: z.output<S>, needed: boolean, callId?: string): Promise<{ args: z.output<S> } | { refusal: string }> {
  if (!needed) return { args };
  const request: ApprovalRequest = { type: "conclave.approval", kind: "tool", tool, args, ...(callId ? { callId } : {}), summary: `call ${tool} with ${JSON.stringify(args).slice(0, 300)}` };
  const decision = parseDecision(interrupt(request));
  if (decision.decision === "approve") return { args };
  if (decision.decision === "reject") return { refusal: `The user rejected this call to "${tool}" (${decision.reason}). Do not call it again with these arguments; continue without it, or say what you could not do.` };
  const edited = schema.safeParse(decision.edit);
  if (!edited.success) throw new ToolExecutionError(tool, `The edited arguments for "${tool}" do not match its schema: ${z.prettifyError(edited.error)}. Approve again with --edit JSON that matches it.`);
  return { args: edited.data };
}

/**
 * Pauses for approval of a graph's final answer when the run asks for it (`conclave run
 * --approve-answer`, or `run(..., { approveAnswer: true })`); otherwise returns the answer as is.
 * Returns the approved (or edited) answer, or `{ rejected: reason }`.
 */
export function approveAnswer(config: LangGraphRunnableConfig | undefined, answer: string): { answer: string } | { rejected: string } {
  if (!runContext(config).approveAnswer) return { answer };
  const request: ApprovalRequest = { type: "conclave.approval", kind: "answer", answer, summary: `final answer: ${answer.slice(0, 300)}` };
  const decision = parseDecision(interrupt(request));
  if (decision.decision === "approve") return { answer };
  if (decision.decision === "reject") return { rejected: decision.reason };
  if (typeof decision.edit !== "string" || !decision.edit.trim()) throw new ToolExecutionError("approve_answer", `An edited answer must be a non-empty JSON string, e.g. --edit '"The corrected answer."'.`);
  return { answer: decision.edit };
}
