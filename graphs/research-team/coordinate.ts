import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { budgetExceeded, citedClaims, extractCitations, isBudgetExceeded, reportEvent, runContext } from "conclave";
import type { TeamAgents } from "./agents.ts";
import type { Critique, TeamStateType, TeamUpdate, Termination } from "./state.ts";
import { claimKey, openItems } from "./write.ts";

/** Coordinator, after each critique: finish (approved, round limit, no progress, budget) or another round. */
export function coordinateNode(maxRounds: number) {
  return (state: TeamStateType, config: LangGraphRunnableConfig): TeamUpdate => {
    const finish = (terminationReason: Termination, reason: string): TeamUpdate => {
      reportEvent(config, { type: "decision", by: "coordinator", next: "finish", round: state.round, reason });
      return { terminationReason };
    };
    if (state.terminationReason) return finish(state.terminationReason, `stopping: ${state.terminationReason}`);
    const critique = state.critiques.at(-1)!;
    if (critique.overall === "approve") return finish("approved", `verification approved the draft (${critique.items.length} of ${critique.items.length} claims supported)`);
    const { budget, usage } = runContext(config);
    const spent = budget && usage ? budgetExceeded(budget, usage) : undefined;
    if (spent) return finish("budget", `the run's ${spent.limit} budget is spent (${spent.used} of ${spent.allowed})`);
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
 * best-scored — using only its supported claims when it was not approved. Citations must name
 * sources research found; any other marker is removed.
 */
export function finalizeNode(agents: TeamAgents) {
  return async (state: TeamStateType, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    const usage = runContext(config).usage?.byAgent ?? {};
    const best = bestDraft(state);
    if (!best) {
      const answer = state.terminationReason === "budget" ? "The budget ran out before the team found any evidence." : "The team found no evidence for this task in its sources.";
      return { final: { answer, citations: [], basedOnRound: 0, score: 0 }, usage };
    }
    const verdicts = new Map(best.critique?.items.map((item) => [claimKey(item.claim), item.verdict]) ?? []);
    const claims = citedClaims(best.draft.text).filter((claim) => best.critique?.overall === "approve" || verdicts.get(claimKey(claim.claim)) === "supported");
    const chosen = claims.length ? claims : citedClaims(best.draft.text);
    const known = new Set(state.findings.map((finding) => finding.sourceId));
    const asLines = chosen.map((claim) => `${claim.sources.map((source) => `[${source}]`).join("")} ${claim.claim}`.trim());
    let answer = chosen.map((claim) => `${claim.claim} ${claim.sources.map((source) => `[${source}]`).join("")}`.trim()).join(" ");
    try {
      const result = await agents.synthesizer.invoke({ messages: [new HumanMessage(`Task: ${state.task}\n\nApproved claims:\n${asLines.join("\n")}`)] }, config);
      answer = result.messages.at(-1)?.text.trim() || answer;
    } catch (error) {
      if (!isBudgetExceeded(error)) throw error;
    }
    answer = answer.replace(/\s*\[([\w][\w:./#-]{0,120})\]/g, (marker, source: string) => (known.has(source) ? marker : "")).trim();
    return { final: { answer, citations: extractCitations(answer), basedOnRound: best.draft.round, score: best.critique?.score ?? 0 }, usage };
  };
}

function bestDraft(state: TeamStateType) {
  const scored = state.drafts.map((draft) => ({ draft, critique: state.critiques.find((critique) => critique.round === draft.round) }));
  return scored.reduce<(typeof scored)[number] | undefined>((best, entry) => (!best || (entry.critique?.score ?? -1) >= (best.critique?.score ?? -1) ? entry : best), undefined);
}
