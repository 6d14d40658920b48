import { HumanMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { citedClaims, isBudgetExceeded, reportEvent, withRound } from "conclave";
import type { TeamAgents } from "./agents.ts";
import { budgetStop } from "./stop.ts";
import type { Critique, Finding, TeamStateType, TeamUpdate } from "./state.ts";

/** A claim's comparable form: case and punctuation do not make two claims different. */
export function claimKey(claim: string): string {
  return claim.toLowerCase().replace(/\[[^\]]*\]/g, "").replace(/[^\p{L}\p{N}]+/gu, " ").trim();
}

/** The critique items a draft still has to deal with. */
export function openItems(critique: Critique | undefined) {
  return (critique?.items ?? []).filter((item) => item.verdict !== "supported");
}

/**
 * The findings the writer may use: each claim once, without the ones verification rejected in
 * the last round (revising means not repeating them).
 */
export function usableFindings(findings: readonly Finding[], critique: Critique | undefined): Finding[] {
  const rejected = new Set(openItems(critique).map((item) => claimKey(item.claim)));
  const seen = new Set<string>();
  return findings.filter((finding) => {
    const key = `${claimKey(finding.claim)}|${finding.sourceId}`;
    if (rejected.has(claimKey(finding.claim)) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Writing: drafts from the findings only; in later rounds, revises against the critique. */
export function writeNode(agents: TeamAgents) {
  return async (state: TeamStateType, config: LangGraphRunnableConfig): Promise<TeamUpdate> => {
    if (state.terminationReason) return {};
    const critique = state.critiques.at(-1);
    const findings = usableFindings(state.findings, critique);
    if (findings.length === 0 && state.drafts.length === 0) {
      const why = state.incidents.length ? `: ${state.incidents.join("; ")}` : ": research found nothing in its sources";
      reportEvent(config, { type: "decision", by: "coordinator", next: "finish", round: state.round, reason: `no findings to write from${why}` });
      return { terminationReason: "no-findings" };
    }
    const items = openItems(critique);
    const prompt = [
      `Question: ${state.task}`,
      "",
      "Findings:",
      ...findings.map((finding) => `[${finding.sourceId}] ${finding.claim}`),
      ...(items.length
        ? ["", `Critique of your previous draft (round ${critique!.round}) — address every item:`, ...items.map((item) => `- ${item.id} ${item.verdict}: "${item.claim}" Problem: ${item.problem || "none given"} Suggestion: ${item.suggestion || "remove or correct it"}`)]
        : []),
    ].join("\n");
    let text: string;
    try {
      const result = await agents.writing.invoke({ messages: [new HumanMessage(prompt)] }, withRound(config, state.round));
      text = result.messages.at(-1)?.text.trim() ?? "";
    } catch (error) {
      if (isBudgetExceeded(error)) return budgetStop(config, state.round);
      throw error;
    }
    const present = new Set(citedClaims(text).map((claim) => claimKey(claim.claim)));
    // An item is addressed when its claim is gone from the new draft; verification decides whether a kept claim now holds.
    const addressed = items.filter((item) => !present.has(claimKey(item.claim))).map((item) => item.id);
    return { drafts: [{ round: state.round, text, addressed }] };
  };
}
