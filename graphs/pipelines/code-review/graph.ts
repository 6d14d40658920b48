import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { END, START, StateGraph } from "@langchain/langgraph";
import type { GraphBuildContext } from "conclave";
import { ConfigError, observeNode, reportEvent, setStepBudget, stepBudgetOf } from "conclave";
import { z } from "zod";
import { DiffInputError, loadDiff, newContents, parseUnifiedDiff } from "./diff.ts";
import { LINTABLE, lintChangedFiles } from "./lint.ts";
import { reviewNode, reviewerAgent, verdictNode } from "./review.ts";
import { SECURITY_RULES, scanAddedLines } from "./security.ts";
import type { SecurityRule } from "./security.ts";
import { ReviewState } from "./state.ts";
import type { ChangedFile, ReviewStateType, ReviewUpdate } from "./state.ts";

const ChatModel = z.custom<BaseChatModel>((value) => typeof value === "object" && value !== null && typeof (value as { invoke?: unknown }).invoke === "function", "a LangChain chat model");
const Rule = z.custom<SecurityRule>((value) => typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string" && typeof (value as { check?: unknown }).check === "function", "a SecurityRule ({ id, severity, check })");

/** How the code review is built; everything is optional. */
export const CodeReviewOptionsSchema = z
  .object({
    /** The security rules run on added lines (default `SECURITY_RULES`); pass `[...SECURITY_RULES, myRule]` to extend them. */
    securityRules: z.array(Rule).optional(),
    /** The model the reviewer agent uses (default: the run's model). */
    models: z.object({ reviewer: ChatModel }).partial().default({}),
  })
  .strict();

export type CodeReviewOptions = z.input<typeof CodeReviewOptionsSchema>;

/** Reads and parses the diff, and rebuilds each changed file's new text for the checks. */
function parseNode(cwd: string) {
  return (state: ReviewStateType, config: LangGraphRunnableConfig): ReviewUpdate => {
    const diff = loadDiff(state.source, cwd);
    const patches = parseUnifiedDiff(diff);
    if (patches.length === 0) throw new DiffInputError("The input holds no file changes. Pass a unified diff (the output of git diff or diff -u) or the path of a .diff / .patch file.");
    const files: ChangedFile[] = [];
    const notes: string[] = [];
    for (const patch of patches) {
      if (patch.status === "deleted" || patch.binary) {
        notes.push(`${patch.path}: ${patch.binary ? "binary" : "deleted"}, nothing to check`);
        continue;
      }
      const { text, source } = newContents(patch, cwd);
      files.push({ path: patch.path, status: patch.status, text, source, added: patch.newLines.filter((line) => line.added).map((line) => line.line) });
      if (source === "partial" && LINTABLE.test(patch.path)) notes.push(`${patch.path}: only the diff's hunks are known (the workspace has neither version), so lines outside them were not seen`);
    }
    const added = files.reduce((sum, file) => sum + file.added.length, 0);
    reportEvent(config, { type: "decision", by: "parse", next: "checks", reason: `${files.length} changed file(s), ${added} added line(s); running ESLint and the security scan side by side` });
    return { diff, files, notes };
  };
}

/**
 * Code review of a unified diff: parse → ESLint and the security scan in parallel, both on added
 * lines only → a model reviewer that sees the diff and the findings → a combined verdict (approve /
 * request-changes / block) with its reasons, checked by `VerdictSchema`.
 *
 * @example
 * const graph = createCodeReview({ config, cwd: process.cwd() });
 * const { state } = await run(graph, { source: "changes.diff" });
 * if (state.verdict?.verdict === "block") process.exitCode = 1;
 */
export function createCodeReview(context: GraphBuildContext, options: CodeReviewOptions = {}) {
  const parsed = CodeReviewOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`Invalid code-review options: ${z.prettifyError(parsed.error)}`);
  const rules = parsed.data.securityRules ?? SECURITY_RULES;
  const reviewer = reviewerAgent(parsed.data.models.reviewer);
  const lint = async (state: ReviewStateType): Promise<ReviewUpdate> => lintChangedFiles(state.files, context.cwd);
  const security = (state: ReviewStateType): ReviewUpdate => ({ findings: scanAddedLines(state.files, rules) });
  const graph = new StateGraph(ReviewState)
    .addNode("parse", observeNode("parse", parseNode(context.cwd)))
    .addNode("lint", observeNode("lint", lint))
    .addNode("security", observeNode("security", security))
    // Node names may not repeat state keys ("review", "verdict").
    .addNode("reviewer", observeNode("reviewer", reviewNode(reviewer)))
    .addNode("decide", observeNode("decide", verdictNode()))
    .addEdge(START, "parse")
    .addEdge("parse", "lint")
    .addEdge("parse", "security")
    // The reviewer waits for both checks: it is told what they found.
    .addEdge(["lint", "security"], "reviewer")
    .addEdge("reviewer", "decide")
    .addEdge("decide", END)
    .compile({ name: "code-review" });
  return setStepBudget(graph, Math.max(stepBudgetOf(reviewer) ?? 0, 8));
}
