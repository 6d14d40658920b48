import { z } from "zod";

/** Longest task a run accepts, in characters (after control characters are stripped). */
export const MAX_INPUT_CHARS = 20_000;
/** Largest request body, in bytes. */
export const BODY_LIMIT_BYTES = 256 * 1024;

export const RunBodySchema = z
  .object({
    input: z.string().min(1).max(MAX_INPUT_CHARS).describe("The task for the graph"),
    graph: z.string().min(1).max(100).regex(/^[\w.-]+$/, "a registered graph name: letters, digits, '.', '_' or '-'").optional().describe("A registered graph (default: the configured default graph)"),
    idempotencyKey: z.string().min(1).max(200).optional().describe("The same key starts at most one run"),
    callbackUrl: z.url({ protocol: /^https?$/ }).max(2_000).optional().describe("Where to POST a notification when the run ends"),
  })
  .strict();

export const ApproveBodySchema = z
  .object({
    interruptId: z.string().min(1).max(200).optional().describe("Which pending approval (default: all of them)"),
    edit: z.unknown().optional().describe("Approve with these tool arguments (an object) or this answer (a string) instead"),
  })
  .strict();

export const RejectBodySchema = z
  .object({
    interruptId: z.string().min(1).max(200).optional().describe("Which pending approval (default: all of them)"),
    reason: z.string().min(1).max(2_000).describe("Why: the model is told, and the audit log keeps it"),
  })
  .strict();

export const ListQuerySchema = z.object({
  status: z.enum(["queued", "running", "interrupted", "done", "failed", "cancelled"]).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
});

// Tabs and line breaks are kept; other control characters (and DEL) never reach a prompt or a log.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

/** Removes control characters from a string that goes to a model, a log or a store. */
export function stripControl(text: string): string {
  return text.replace(CONTROL, "");
}
