import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { approveAnswer, budgetExceeded, citedClaims, extractCitations, isBudgetExceeded, reportEvent, runContext, withRound } from "conclave";
import type { CitedClaim } from "conclave";
import { support } from "./findings.ts";
import type { TeamAgents } from "./agents.ts";
import type { Critique, TeamStateType, TeamUpdate, Termination } from "./state.ts";
import { budgetReason } from "./stop.ts";
import { claimKey, openItems } from "./write.ts";

/** Coordinator, after each critique: finish (approved, round limit, no progress, budget) or another round. */
export function coordinateNode(maxRounds: number) {
  return (state: TeamStateType, config: LangGraphRunnableConfig): TeamUpdate => {
    const finish = (terminationReason: Termination, reason: string): TeamUpdate => {
      reportEvent(config, { type: "decision", by: "coordinator", next: "finish", round: state.round, reason });
      return { terminationReason };
    };
    // Whoever set the reason already announced it (see budgetStop).
    if (state.terminationReason) return {};
    const critique = state.critiques.at(-1)!;
    if (critique.overall === "approve") return finish("approved", `verification approved the draft (${critique.items.length} of ${critique.items.length} claims supported)`);
    const { budget, usage, startedAt } = runContext(config);
    const spent = budget && usage ? budgetExceeded(budget, usage, startedAt === undefined ? 0 : Date.now() - startedAt) : undefined;
    if (spent) return finish("budget", budgetReason(config));
    if (state.round >= maxRounds) return finish("max-rounds", `round limit of ${maxRounds} reached with ${openItems(critique).length} claim(s) still flagged`);
    const previous = state.critiques.at(-2);
    if (previous && sameOpenClaims(previous, critique)) return finish("no-progress", "the revision left the same claims flagged as the round before");
    reportEvent(config, { type: "decision", by: "coordinator", next: "writing", round: state.round + 1, reason: `${openItems(critique).length} claim(s) flagged; asking writing to revise` });
    return { round: state.round + 1 };
  };
}

function sameOpenClaims(a: Critique, b: Critique): boolean {
  const keys = (critique: Critique) => openItems(critique).map((item) => claimKey(item.claim)).sort().join("\n");
  return keys(a) === keys(b);
}

/**
 * Coordinator's synthesis: the final answer from the best draft — the approved one, or else the
 * best-scored — using only its supported claims when it was not approved (or, when no draft was
 * written, the findings, marked unverified). The synthesiser may only rephrase: every cited
 * sentence it writes must be supported by the findings it cites, or its answer is replaced by the
 * verified claims themselves.
 */
/**
 * Review: when the run asks for it, a human approves, edits or rejects the final answer (the run
 * pauses here). A node of its own, so approving never re-runs the synthesis call before it.
 */
export function reviewNode() {
  return (state: TeamStateType, config: LangGraphRunnableConfig): TeamUpdate => {
    if (!state.final) return {};
    const decision = approveAnswer(config, state.final.answer);
    if (!("answer" in decision)) return { final: { ...state.final, verified: false, review: { decision: "rejected", reason: decision.rejected } } };
    if (decision.answer === state.final.answer) return runContext(config).approveAnswer ? { final: { ...state.final, review: { decision: "approved" } } } : {};
    return { final: { ...state.final, answer: decision.answer, citations: extractCitations(decision.answer), review: { decision: "edited" } } };
  };
}

export function finalizeNode(agents: TeamAgents) {
  return async (state: TeamStateType, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    const usage = runContext(config).usage?.byAgent ?? {};
    const basis = answerBasis(state);
    if (basis.claims.length === 0) {
      const answer = state.terminationReason === "budget" ? "The budget ran out before the team found any evidence." : "The team found no evidence for this task in its sources.";
      return { final: { answer, citations: [], basedOnRound: 0, score: 0, verified: false }, usage };
    }
    const fallback = basis.claims.map((claim) => `${claim.claim} ${claim.sources.map((source) => `[${source}]`).join("")}`.trim()).join(" ");
    let answer = fallback;
    if (basis.verified) {
      try {
        const lines = basis.claims.map((claim) => `${claim.sources.map((source) => `[${source}]`).join("")} ${claim.claim}`.trim());
        const result = await agents.synthesizer.invoke({ messages: [new HumanMessage(`Task: ${state.task}\n\nApproved claims:\n${lines.join("\n")}`)] }, withRound(config, state.round));
        const written = result.messages.at(-1)?.text.trim() ?? "";
        answer = faithful(written, state) ? written : fallback;
      } catch (error) {
        if (!isBudgetExceeded(error)) throw error;
      }
    }
    if (!basis.verified) answer = `${answer}\n\n(Not fully verified: ${basis.note}.)`;
    return { final: { answer, citations: extractCitations(answer), basedOnRound: basis.round, score: basis.score, verified: basis.verified }, usage };
  };
}

interface AnswerBasis {
  claims: CitedClaim[];
  round: number;
  score: number;
  verified: boolean;
  note: string;
}

/** The claims the final answer may rest on, and whether they were all verified. */
function answerBasis(state: TeamStateType): AnswerBasis {
  const scored = state.drafts.map((draft) => ({ draft, critique: state.critiques.find((critique) => critique.round === draft.round) }));
  const best = scored.reduce<(typeof scored)[number] | undefined>((top, entry) => (!top || (entry.critique?.score ?? -1) >= (top.critique?.score ?? -1) ? entry : top), undefined);
  if (!best) {
    // No draft was written (the budget ran out first): the findings are the best result, unverified.
    const claims = state.findings.map((finding) => ({ claim: finding.claim, sources: [finding.sourceId] }));
    return { claims, round: 0, score: 0, verified: false, note: "no draft was written or checked; these are research's findings" };
  }
  const all = citedClaims(best.draft.text);
  if (best.critique?.overall === "approve") return { claims: all, round: best.draft.round, score: 1, verified: true, note: "" };
  const supported = new Set(best.critique?.items.filter((item) => item.verdict === "supported").map((item) => claimKey(item.claim)) ?? []);
  const verifiedClaims = all.filter((claim) => supported.has(claimKey(claim.claim)));
  if (verifiedClaims.length) return { claims: verifiedClaims, round: best.draft.round, score: best.critique?.score ?? 0, verified: true, note: "" };
  return { claims: all, round: best.draft.round, score: best.critique?.score ?? 0, verified: false, note: best.critique ? "verification supported none of the draft's claims" : "the draft was not checked" };
}

/** Every cited sentence is supported by the evidence of the findings it cites, and no other source is cited. */
function faithful(answer: string, state: TeamStateType): boolean {
  const claims = citedClaims(answer).filter((claim) => claim.sources.length > 0);
  if (claims.length === 0) return false;
  return claims.every((claim) => {
    const evidence = state.findings.filter((finding) => claim.sources.includes(finding.sourceId)).map((finding) => `${finding.claim} ${finding.evidence}`).join("\n");
    if (!evidence || claim.sources.some((source) => !state.findings.some((finding) => finding.sourceId === source))) return false;
    const check = support(claim.claim, evidence);
    return check.coverage >= 0.6 && check.numbersStated;
  });
}
