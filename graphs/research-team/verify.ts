import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { MaxStepsExceededError, OutputValidationError, citedClaims, isBudgetExceeded, reportEvent, withRound } from "conclave";
import type { TeamAgents } from "./agents.ts";
import { budgetStop } from "./stop.ts";
import { support } from "./findings.ts";
import { CritiqueSchema } from "./state.ts";
import type { CritiqueItem, Finding, TeamStateType, TeamUpdate } from "./state.ts";
import { claimKey } from "./write.ts";

/** One claim of the latest draft, sent to verification. */
export interface VerifyTask {
  claim: { id: string; text: string; sources: string[] };
  round: number;
  findings: Finding[];
}

/** The claims of the latest draft, one verification task each. */
export function claimTasks(state: TeamStateType): VerifyTask[] {
  const draft = state.drafts.at(-1);
  return citedClaims(draft?.text ?? "").map((claim, index) => ({ claim: { id: `r${state.round}c${index + 1}`, text: claim.claim, sources: claim.sources }, round: state.round, findings: state.findings }));
}

/**
 * Verification of one claim. Claims resting on a tool's output or a file are checked against the
 * findings that hold that output; claims citing the corpus go to the verification agent, which
 * tests them with check_support and answers with a verdict validated by its zod schema.
 */
export function verifyNode(agents: TeamAgents) {
  return async ({ claim, round, findings }: VerifyTask, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    const base = { id: claim.id, claim: claim.text, sources: claim.sources, round };
    if (claim.sources.length > 0 && claim.sources.every((source) => source.startsWith("tool:") || source.startsWith("file:"))) {
      return { verdicts: [{ ...base, ...againstFindings(claim.text, claim.sources, findings) }] };
    }
    try {
      const result = await agents.verification.invoke({ messages: [new HumanMessage(`${claim.text} ${claim.sources.map((source) => `[${source}]`).join(" ")}`.trim())] }, withRound(config, round, claim.id));
      const verdict = result.structuredResponse!;
      return { verdicts: [{ ...base, verdict: verdict.verdict, problem: verdict.verdict === "supported" ? "" : verdict.problem, suggestion: verdict.verdict === "supported" ? "" : verdict.suggestion }] };
    } catch (error) {
      if (isBudgetExceeded(error)) return budgetStop(config, round);
      if (!(error instanceof MaxStepsExceededError) && !(error instanceof OutputValidationError)) throw error;
      return { verdicts: [{ ...base, verdict: "unsupported", problem: `Verification could not reach a verdict: ${error.message.slice(0, 160)}`, suggestion: "Rephrase the claim closer to its source, or remove it." }] };
    }
  };
}

function againstFindings(claim: string, sources: string[], findings: readonly Finding[]): Pick<CritiqueItem, "verdict" | "problem" | "suggestion"> {
  const evidence = findings.filter((finding) => sources.includes(finding.sourceId)).map((finding) => finding.evidence).join("\n");
  const check = support(claim, evidence);
  if (evidence && check.coverage >= 0.6 && check.numbersStated) return { verdict: "supported", problem: "", suggestion: "" };
  if (evidence && check.coverage >= 0.6) return { verdict: "contradicted", problem: `The output of ${sources.join(", ")} states other numbers.`, suggestion: "Quote the tool's result exactly." };
  return { verdict: "unsupported", problem: evidence ? `The output of ${sources.join(", ")} does not state this.` : `No finding holds the output of ${sources.join(", ")}.`, suggestion: "Remove the claim or cite the finding it comes from." };
}

/** Verification's critique of the round: the per-claim verdicts, approve only when every claim holds, and the convergence measures. */
export function critiqueNode() {
  return (state: TeamStateType, config: LangGraphRunnableConfig): TeamUpdate => {
    // A claim whose check never came back (the budget ran out mid-round) is not verified, so the
    // round cannot be approved on the claims that happened to be checked.
    const returned = state.verdicts.filter((item) => item.round === state.round);
    const missing = claimTasks(state).filter((task) => !returned.some((item) => item.id === task.claim.id)).map((task) => ({ id: task.claim.id, claim: task.claim.text, sources: task.claim.sources, round: state.round, verdict: "unsupported" as const, problem: "Not verified: the run stopped before this claim was checked.", suggestion: "Verify it before relying on it." }));
    const items = [...returned, ...missing];
    const supported = items.filter((item) => item.verdict === "supported").length;
    const critique = CritiqueSchema.parse({ round: state.round, items, overall: items.length > 0 && supported === items.length ? "approve" : "revise", score: items.length ? supported / items.length : 0 });
    const draft = state.drafts.at(-1);
    const previous = state.drafts.at(-2);
    const before = new Set(citedClaims(previous?.text ?? "").map((claim) => claimKey(claim.claim)));
    const after = new Set(citedClaims(draft?.text ?? "").map((claim) => claimKey(claim.claim)));
    const draftChange = previous ? [...after].filter((claim) => !before.has(claim)).length + [...before].filter((claim) => !after.has(claim)).length : after.size;
    const open = items.filter((item) => item.verdict !== "supported");
    reportEvent(config, {
      type: "round-end",
      loop: "critique",
      round: state.round,
      measures: { claimsSupported: supported, claimsTotal: items.length, itemsResolved: draft?.addressed.length ?? 0, draftChange, score: critique.score, unverified: missing.length },
      summary: `${supported}/${items.length} claims supported · verdict ${critique.overall} (score ${critique.score.toFixed(2)}) · ${previous ? `${plural(draft?.addressed.length ?? 0, "critique item")} resolved · ${plural(draftChange, "claim")} changed` : `first draft, ${plural(after.size, "claim")}`}${missing.length ? ` · ${missing.length} not verified` : ""}${open.length ? ` · flagged: ${open.map((item) => `${item.id} ${item.verdict} "${item.claim.slice(0, 60)}"`).join("; ")}` : ""}`,
    });
    return { critiques: [critique] };
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
