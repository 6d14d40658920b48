import { z } from "zod";
import { ConclaveError } from "../errors.ts";

/** What an `interrupt()` raised by Conclave carries: shown by `conclave pending`, answered by approve / reject. */
export const ApprovalRequestSchema = z.object({
  type: z.literal("conclave.approval"),
  kind: z.enum(["tool", "answer"]),
  tool: z.string().optional(),
  args: z.unknown().optional(),
  /** The model's id for the tool call, for kind "tool". */
  callId: z.string().optional(),
  /** The answer awaiting approval, for kind "answer". */
  answer: z.string().optional(),
  summary: z.string(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/** A human's decision, sent back as the interrupt's resume value. `edit` replaces the tool's arguments (an object) or the answer (a string). */
export const ApprovalDecisionSchema = z.discriminatedUnion("decision", [
  z.object({ decision: z.literal("approve"), actor: z.string().default("unknown") }),
  z.object({ decision: z.literal("edit"), edit: z.unknown(), actor: z.string().default("unknown") }),
  z.object({ decision: z.literal("reject"), reason: z.string().default("no reason given"), actor: z.string().default("unknown") }),
]);
export type ApprovalDecision = z.input<typeof ApprovalDecisionSchema>;

/** One approval a paused run waits for. */
export interface PendingApproval {
  /** LangGraph's interrupt id: name it to decide on one of several. */
  interruptId: string;
  request: ApprovalRequest;
}

/** A resume value that is not a decision (a bug in a caller of `resume`). */
export class ApprovalDecisionError extends ConclaveError {
  override name = "ApprovalDecisionError";
  constructor(message: string, details?: Record<string, unknown>) {
    super("APPROVAL_INVALID", "user", message, details ? { details } : undefined);
  }
}

export function parseDecision(value: unknown): z.output<typeof ApprovalDecisionSchema> {
  const parsed = ApprovalDecisionSchema.safeParse(value);
  if (!parsed.success) throw new ApprovalDecisionError(`The approval decision ${JSON.stringify(value)?.slice(0, 200)} is not valid: ${z.prettifyError(parsed.error)}. Send { decision: "approve" }, { decision: "edit", edit } or { decision: "reject", reason }.`);
  return parsed.data;
}

/** The approvals in interrupt values (others' interrupts are left alone). */
export function approvalsOf(interrupts: ReadonlyArray<{ id?: string; value?: unknown }>): PendingApproval[] {
  return interrupts.flatMap((item) => {
    const request = ApprovalRequestSchema.safeParse(item.value);
    return request.success && item.id ? [{ interruptId: item.id, request: request.data }] : [];
  });
}
