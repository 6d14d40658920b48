import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { MaxStepsExceededError, OutputValidationError, createAgentGraph, defineAgent, isBudgetExceeded, reportEvent } from "conclave";
import { ModelReviewSchema, VerdictSchema } from "./state.ts";
import type { Finding, ModelReview, ReviewStateType, ReviewUpdate, Verdict, VerdictValue } from "./state.ts";

const REVIEWER_INSTRUCTIONS = `You are a senior engineer reviewing a code change (a unified diff).
The linter's and the security scan's findings on added lines are listed; they are verified, so do not repeat them.
Look for what they cannot see: logic errors, unhandled failures, unsafe input handling, missing tests, misleading names.
Comment only on added lines (their numbers in the new file), and give your verdict: approve, request-changes (bugs, missing handling), or block (security or data-loss risk).`;

/** About 15,000 tokens of diff: enough for a reviewable change, and a bound on what one review costs. */
const MAX_DIFF_CHARS = 60_000;

/** The model reviewer: an agent with no tools whose answer is checked against `ModelReviewSchema`. */
export function reviewerAgent(model?: BaseChatModel) {
  return createAgentGraph(defineAgent({ name: "reviewer", instructions: REVIEWER_INSTRUCTIONS, tools: [], outputSchema: ModelReviewSchema, maxSteps: 1, ...(model ? { model } : {}) }));
}

/** The reviewer sees the diff and the static findings; its comments count only on lines the change added. */
export function reviewNode(reviewer: ReturnType<typeof reviewerAgent>) {
  return async (state: ReviewStateType, config: LangGraphRunnableConfig): Promise<ReviewUpdate> => {
    const listed = state.findings.map((finding, index) => `[finding-${index + 1}] ${finding.rule} (${finding.severity}) at ${finding.file}:${finding.line}: ${finding.message}`);
    const files = state.files.map((file) => `${file.path} (${file.status}, ${file.added.length} line(s) added)`).join("; ");
    // A huge diff would not fit the context: the reviewer sees its start, and is told so.
    const diff = state.diff.length > MAX_DIFF_CHARS ? `${state.diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} of ${state.diff.length} characters)` : state.diff;
    const request = `Review this change. Changed files: ${files}.\n\nStatic findings on added lines:\n${listed.join("\n") || "none"}\n\nDiff:\n\`\`\`diff\n${diff}\n\`\`\``;
    let review: ModelReview | undefined;
    try {
      review = (await reviewer.invoke({ messages: [new HumanMessage(request)] }, config)).structuredResponse;
    } catch (error) {
      const why = isBudgetExceeded(error) ? "the budget ran out" : error instanceof OutputValidationError || error instanceof MaxStepsExceededError ? `it gave no valid answer (${error.message.slice(0, 160)})` : undefined;
      if (!why) throw error;
      return { notes: [`no model review: ${why}; the verdict rests on the static checks`] };
    }
    if (!review) return { notes: ["no model review: the reviewer gave no structured answer"] };
    const added = new Map(state.files.map((file) => [file.path, new Set(file.added)]));
    const kept = review.comments.filter((comment) => added.get(comment.file)?.has(comment.line));
    const dropped = review.comments.length - kept.length;
    const findings: Finding[] = kept.map((comment) => ({ source: "model", rule: "model-review", severity: comment.severity, file: comment.file, line: comment.line, message: comment.comment }));
    return { review: { ...review, comments: kept }, findings, notes: dropped ? [`dropped ${dropped} model comment(s) that point at no added line`] : [] };
  };
}

const RANK: Record<VerdictValue, number> = { approve: 0, "request-changes": 1, block: 2 };

/**
 * The combined verdict. Static checks set a floor — any security finding blocks, an ESLint error
 * asks for changes — and the model reviewer can raise it but never lower it: a model that misses
 * an injected `eval(` must not wave it through.
 */
export function decideVerdict(findings: readonly Finding[], review: ModelReview | undefined): Verdict {
  const security = findings.filter((finding) => finding.source === "security");
  const lintErrors = findings.filter((finding) => finding.source === "eslint" && finding.severity === "error");
  const lintWarnings = findings.filter((finding) => finding.source === "eslint" && finding.severity !== "error");
  const floor: VerdictValue = security.length ? "block" : lintErrors.length ? "request-changes" : "approve";
  const verdict = review && RANK[review.verdict] > RANK[floor] ? review.verdict : floor;
  const reasons: string[] = [];
  if (security.length) reasons.push(`${security.length} security finding(s) on added lines: ${list(security)}`);
  if (lintErrors.length) reasons.push(`${lintErrors.length} ESLint error(s) on added lines: ${list(lintErrors)}`);
  if (lintWarnings.length) reasons.push(`${lintWarnings.length} ESLint warning(s), not blocking: ${list(lintWarnings)}`);
  if (review) reasons.push(`the model reviewer says ${review.verdict}${verdict === review.verdict && verdict !== floor ? " (this raised the verdict)" : ""}: ${review.summary.slice(0, 300)}`);
  else reasons.push("no model review; the verdict rests on the static checks");
  if (verdict === "approve" && !security.length && !lintErrors.length) reasons.unshift("no security findings and no ESLint errors on added lines");
  const counts = { security: security.length, lintErrors: lintErrors.length, lintWarnings: lintWarnings.length, modelComments: findings.filter((finding) => finding.source === "model").length };
  return VerdictSchema.parse({ verdict, reasons, counts });
}

/** The verdict node: decides, and says why in a `decision` event. */
export function verdictNode() {
  return (state: ReviewStateType, config: LangGraphRunnableConfig): ReviewUpdate => {
    const verdict = decideVerdict(state.findings, state.review);
    reportEvent(config, { type: "decision", by: "decide", next: "finish", reason: `${verdict.verdict}: ${verdict.reasons[0]}` });
    return { verdict };
  };
}

/** "security/no-eval at src/a.ts:3, …", at most five. */
function list(findings: readonly Finding[]): string {
  const shown = findings.slice(0, 5).map((finding) => `${finding.rule} at ${finding.file}:${finding.line}`);
  return shown.join(", ") + (findings.length > 5 ? `, and ${findings.length - 5} more` : "");
}
