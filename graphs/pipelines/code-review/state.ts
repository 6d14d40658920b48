import { ReducedValue, StateSchema } from "@langchain/langgraph";
import { z } from "zod";

export const SeveritySchema = z.enum(["info", "warning", "error", "critical"]);

/** One problem on an added line, from ESLint, the security rules or the model reviewer. */
export const FindingSchema = z.object({
  source: z.enum(["eslint", "security", "model"]),
  rule: z.string(),
  severity: SeveritySchema,
  file: z.string(),
  line: z.number().int(),
  message: z.string(),
});

/** A changed file as the checks see it (see `ContentSource` for `source`). */
export const ChangedFileSchema = z.object({
  path: z.string(),
  status: z.enum(["added", "modified", "deleted", "renamed"]),
  text: z.string(),
  source: z.enum(["diff", "checkout", "patched", "partial"]),
  added: z.array(z.number().int()),
});

export const VerdictValueSchema = z.enum(["approve", "request-changes", "block"]);

/** What the model reviewer answers (its `outputSchema`). */
export const ModelReviewSchema = z.object({
  verdict: VerdictValueSchema.describe("approve; request-changes for bugs, missing handling or lint errors; block for security or data-loss risks."),
  summary: z.string().describe("Two or three sentences on what the change does and what must change before it merges."),
  comments: z
    .array(
      z.object({
        file: z.string().describe("The changed file's path, as in the diff."),
        line: z.number().int().describe("The number, in the new file, of an added line the comment is about."),
        severity: z.enum(["info", "warning", "error"]),
        comment: z.string(),
      }),
    )
    .describe("Problems the static checks missed, one per comment."),
});

/** The combined verdict: the worst of the static checks and the model's, with every reason. */
export const VerdictSchema = z.object({
  verdict: VerdictValueSchema,
  reasons: z.array(z.string()).min(1),
  counts: z.object({ security: z.number().int(), lintErrors: z.number().int(), lintWarnings: z.number().int(), modelComments: z.number().int() }),
});

export type Finding = z.infer<typeof FindingSchema>;
export type ChangedFile = z.infer<typeof ChangedFileSchema>;
export type ModelReview = z.infer<typeof ModelReviewSchema>;
export type Verdict = z.infer<typeof VerdictSchema>;
export type VerdictValue = z.infer<typeof VerdictValueSchema>;

function appended<T>(schema: z.ZodType<T>) {
  return new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });
}

export const ReviewState = new StateSchema({
  /** The unified diff, or the path of a .diff / .patch file. */
  source: z.string(),
  diff: z.string().default(""),
  files: z.array(ChangedFileSchema).default(() => []),
  /** ESLint and the security scan run side by side and append here; the model's comments follow. */
  findings: appended(FindingSchema),
  review: ModelReviewSchema.optional(),
  verdict: VerdictSchema.optional(),
  /** What could not be checked, or was dropped, and why. */
  notes: appended(z.string()),
});

export type ReviewStateType = typeof ReviewState.State;
export type ReviewUpdate = typeof ReviewState.Update;
