import { compileGraph, defineGraph } from "conclave";
import { createCodeReview } from "./code-review/graph.ts";
import type { ReviewStateType } from "./code-review/state.ts";

export { CodeReviewOptionsSchema, createCodeReview } from "./code-review/graph.ts";
export type { CodeReviewOptions } from "./code-review/graph.ts";
export { DiffInputError, parseUnifiedDiff } from "./code-review/diff.ts";
export { lintChangedFiles } from "./code-review/lint.ts";
export { SECURITY_RULES, scanAddedLines } from "./code-review/security.ts";
export type { SecurityRule } from "./code-review/security.ts";
export { decideVerdict } from "./code-review/review.ts";
export { FindingSchema, ModelReviewSchema, ReviewState, VerdictSchema } from "./code-review/state.ts";
export type { Finding, ModelReview, Verdict } from "./code-review/state.ts";

/** The review as the CLI prints it: the verdict, its reasons, then every finding by file and line. */
function report(state: ReviewStateType): string {
  const verdict = state.verdict;
  if (!verdict) return "No verdict.";
  const findings = [...state.findings]
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
    .map((finding) => `- ${finding.file}:${finding.line} [${finding.severity}] ${finding.rule}: ${finding.message}`);
  return [`Verdict: ${verdict.verdict.toUpperCase()}`, ...verdict.reasons.map((reason) => `- ${reason}`), "", `Findings on added lines (${findings.length}):`, ...findings].join("\n");
}

/** A unified diff → ESLint and security findings on added lines, a model review, and a verdict with reasons. */
export const example = defineGraph({
  name: "code-review",
  description: "Code review of a unified diff: ESLint and security rules on added lines, a model reviewer, and a combined approve / request-changes / block verdict",
  sample: "graphs/pipelines/samples/code-review.diff",
  build: (context) => createCodeReview(context),
  input: (task) => ({ source: task }),
  output: (state) => ({
    answer: report(state),
    citations: [],
    details: {
      verdict: state.verdict ?? null,
      findings: state.findings,
      review: state.review ?? null,
      files: state.files.map((file) => ({ path: file.path, status: file.status, source: file.source, addedLines: file.added.length })),
      notes: state.notes,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
