import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, ToolMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { ConfigSchema, RunEvents, run } from "conclave";
import type { ConclaveEvent, GraphBuildContext } from "conclave";
import { scriptedModel } from "conclave/testing";
import type { ScriptedChatModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createResearchTeam } from "./research-team.ts";

const TASK = "When did Apollo 11 land on the Moon?";
const TRUE_CLAIM = "On 20 July 1969, Armstrong and Aldrin landed Eagle in the Sea of Tranquility.";
const FALSE_CLAIM = "Apollo 11 was powered by steam engines built in Peru.";

function context(): GraphBuildContext {
  return { config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-team-")) };
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

/** Research: one retrieve call, then an answer citing what it saw. */
function researchModel() {
  return scriptedModel().callTools([{ name: "retrieve", args: { query: "Apollo 11 Moon landing date" }, id: "call_retrieve" }]).reply(`${TRUE_CLAIM} [apollo-11#2]`);
}

/**
 * A verifier that does what the instructions ask: call check_support with the claim, then answer
 * with the verdict the tool returned. Decided from each request, since claims are checked in parallel.
 */
function verifierModel(calls = 30): ScriptedChatModel {
  const model = scriptedModel();
  for (let index = 0; index < calls; index++) {
    model.respond((messages: BaseMessage[]) => {
      const last = messages.at(-1)!;
      const claim = messages.find((message) => message.getType() === "human")!.text;
      if (last.getType() === "human") return new AIMessage({ content: "", tool_calls: [{ type: "tool_call", id: `check_${index}`, name: "check_support", args: { claim } }] });
      const observation = messages.findLast((message) => ToolMessage.isInstance(message))!.text;
      const verdict = /Verdict: (\w+)/.exec(observation)![1]!;
      if (last.getType() === "tool") return new AIMessage(`The claim is ${verdict}.`);
      const problem = /Problem: (.*)/.exec(observation)?.[1] ?? "";
      const suggestion = /Suggestion: (.*)/.exec(observation)?.[1] ?? "";
      return new AIMessage({ content: "", tool_calls: [{ type: "tool_call", id: `verdict_${index}`, name: "final_answer", args: { verdict, problem, suggestion } }] });
    });
  }
  return model;
}

describe("the research team with scripted agents", () => {
  it("flags an unsupported claim, has writing remove it, and is approved in round 2", async () => {
    const coordinator = scriptedModel().answer({ subQuestions: [{ question: "When did Apollo 11 land?" }] }).reply(`${TRUE_CLAIM} [apollo-11#2]`);
    const research = researchModel();
    const writing = scriptedModel().reply(`${TRUE_CLAIM} [apollo-11#2] ${FALSE_CLAIM} [apollo-11#1]`).reply(`${TRUE_CLAIM} [apollo-11#2]`);
    const verification = verifierModel();
    const graph = createResearchTeam(context(), { models: { coordinator, research, writing, verification } });
    const { events, seen } = recorder();
    const result = await run(graph, { task: TASK }, { events, model: scriptedModel() });
    const state = result.state;

    // The coordinator planned from the task, and later synthesised from the approved claims only.
    expect(coordinator.requests[0]!.at(-1)).toEqual({ role: "user", content: `Task: ${TASK}` });
    expect(state.plan).toEqual([{ id: "q1", question: "When did Apollo 11 land?" }]);
    expect(coordinator.requests[1]!.at(-1)!.content).toBe(`Task: ${TASK}\n\nApproved claims:\n[apollo-11#2] ${TRUE_CLAIM}`);

    // Research asked the sub-question, saw the passages, and its cited claim became a finding.
    expect(research.requests[0]!.at(-1)).toEqual({ role: "user", content: "When did Apollo 11 land?" });
    expect(research.requests[1]!.at(-1)).toMatchObject({ role: "tool", toolCallId: "call_retrieve" });
    expect(research.requests[1]!.at(-1)!.content).toContain("[apollo-11#2]");
    expect(state.findings).toEqual([expect.objectContaining({ claim: TRUE_CLAIM, sourceId: "apollo-11#2", agent: "research", round: 1, subQuestion: "q1" })]);
    expect(state.findings[0]!.evidence).toContain("Sea of Tranquility");

    // Round 1: writing drafted from the findings; verification flagged the invented claim.
    expect(writing.requests[0]!.at(-1)!.content).toBe(`Question: ${TASK}\n\nFindings:\n[apollo-11#2] ${TRUE_CLAIM}`);
    const [first, second] = state.critiques;
    expect(first).toMatchObject({ round: 1, overall: "revise", score: 0.5 });
    const flagged = first!.items.find((item) => item.verdict !== "supported")!;
    expect(flagged).toMatchObject({ claim: FALSE_CLAIM, sources: ["apollo-11#1"], verdict: "unsupported" });
    expect(flagged.problem).toContain("does not support it");

    // Round 2: writing saw the critique item and removed the claim; verification approved.
    const revisionRequest = writing.requests[1]!.at(-1)!.content;
    expect(revisionRequest).toContain(`- ${flagged.id} unsupported: "${FALSE_CLAIM}"`);
    expect(state.drafts.map((draft) => draft.round)).toEqual([1, 2]);
    expect(state.drafts[1]!.addressed).toEqual([flagged.id]);
    expect(second).toMatchObject({ round: 2, overall: "approve", score: 1 });
    expect(state.terminationReason).toBe("approved");

    // Every claim was checked with the tool, once per claim per round (2 + 1).
    const checks = verification.requests.filter((request) => request.at(-1)?.role === "tool");
    expect(checks.length).toBe(3);

    expect(state.final?.answer).toBe(`${TRUE_CLAIM} [apollo-11#2]`);
    expect(state.final?.citations).toEqual([{ source: "apollo-11#2", text: TRUE_CLAIM }]);
    expect(Object.keys(state.usage).sort()).toEqual(["coordinator", "research", "verification", "writing"]);

    const rounds = seen.filter((event) => event.type === "round-end");
    expect(rounds.map((event) => event.type === "round-end" && [event.round, event.measures.claimsSupported, event.measures.claimsTotal, event.measures.itemsResolved])).toEqual([[1, 1, 2, 0], [2, 1, 1, 1]]);
    const decisions = seen.filter((event) => event.type === "decision").map((event) => event.type === "decision" && `${event.next}: ${event.reason}`);
    expect(decisions).toContain("writing: 1 claim(s) flagged; asking writing to revise");
    expect(decisions.at(-1)).toMatch(/^finish: verification approved the draft/);
  });

  it("stops at the round limit and answers with the best draft's supported claims", async () => {
    const writing = scriptedModel()
      .reply(`${TRUE_CLAIM} [apollo-11#2] ${FALSE_CLAIM} [apollo-11#1]`)
      .reply(`${TRUE_CLAIM} [apollo-11#2] Apollo 11 was steered by a parrot from Lima. [apollo-11#1]`);
    const coordinator = scriptedModel().answer({ subQuestions: [] }).reply(`On 20 July 1969 Eagle landed. [apollo-11#2] [invented#9]`);
    const graph = createResearchTeam(context(), { maxRounds: 2, models: { coordinator, research: researchModel(), writing, verification: verifierModel() } });
    const { state } = await run(graph, { task: TASK }, { model: scriptedModel() });
    expect(state.terminationReason).toBe("max-rounds");
    expect(state.critiques.map((critique) => critique.overall)).toEqual(["revise", "revise"]);
    // The plan was empty, so research took the task itself.
    expect(state.plan).toEqual([{ id: "q1", question: TASK }]);
    // Synthesis saw only the supported claim of the best draft; it cited a source research never
    // found, so its text was replaced by the verified claim itself.
    expect(coordinator.requests[1]!.at(-1)!.content).toBe(`Task: ${TASK}\n\nApproved claims:\n[apollo-11#2] ${TRUE_CLAIM}`);
    expect(state.final).toMatchObject({ answer: `${TRUE_CLAIM} [apollo-11#2]`, basedOnRound: 2, verified: true });
    expect(state.final?.citations.map((citation) => citation.source)).toEqual(["apollo-11#2"]);
  });

  it("stops when a revision leaves the same claims flagged", async () => {
    const draft = `${TRUE_CLAIM} [apollo-11#2] ${FALSE_CLAIM} [apollo-11#1]`;
    const graph = createResearchTeam(context(), { maxRounds: 5, models: { coordinator: scriptedModel().answer({ subQuestions: [] }).reply(`${TRUE_CLAIM} [apollo-11#2]`), research: researchModel(), writing: scriptedModel().reply(draft).reply(draft), verification: verifierModel() } });
    const { state } = await run(graph, { task: TASK }, { model: scriptedModel() });
    expect(state.terminationReason).toBe("no-progress");
    expect(state.critiques).toHaveLength(2);
    expect(state.final?.answer).toBe(`${TRUE_CLAIM} [apollo-11#2]`);
  });

  it("ends gracefully with the best draft when the model-call budget runs out mid-round", async () => {
    const graph = createResearchTeam(context());
    const { seen, events } = recorder();
    const result = await run(graph, { task: TASK }, { events, budget: { maxModelCalls: 7 } });
    expect(result.usage.modelCalls).toBeLessThanOrEqual(7);
    const { state } = result;
    expect(state.terminationReason).toBe("budget");
    // The budget ran out while the draft's claims were being checked: the round is not approved on
    // the claims that happened to be checked, and unchecked claims are marked as such.
    expect(state.drafts).toHaveLength(1);
    const critique = state.critiques[0]!;
    expect(critique.overall).toBe("revise");
    expect(critique.items.some((item) => item.problem.startsWith("Not verified"))).toBe(true);
    const supported = critique.items.filter((item) => item.verdict === "supported").map((item) => item.claim);
    expect(state.final!.verified).toBe(supported.length > 0);
    for (const claim of supported) expect(state.final!.answer).toContain(claim);
    expect(state.final!.citations.length).toBeGreaterThan(0);
    const stop = seen.find((event) => event.type === "decision" && event.next === "finish");
    expect(stop).toMatchObject({ reason: expect.stringContaining("maxModelCalls budget is spent (7 of 7)") });
    expect(seen.at(-1)).toMatchObject({ type: "run-end", status: "done" });
  });

  it("answers from research's findings, marked unverified, when the budget ends before any draft", async () => {
    // With so little budget the coordinator skips planning; research answers, then writing is refused.
    const { state } = await run(createResearchTeam(context()), { task: TASK }, { budget: { maxModelCalls: 2 } });
    expect(state.terminationReason).toBe("budget");
    expect(state.drafts).toHaveLength(0);
    expect(state.findings.length).toBeGreaterThan(0);
    expect(state.final!.verified).toBe(false);
    expect(state.final!.answer).toContain(state.findings[0]!.claim);
    expect(state.final!.answer).toContain("(Not fully verified: no draft was written or checked");
  });
});
