import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError } from "../errors.ts";
import { OfflineChatModel } from "../models/offline/chat-model.ts";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import { run } from "../runtime/run.ts";
import { scriptedModel } from "../testing/index.ts";
import type { ScriptedChatModel } from "../testing/index.ts";
import { createHierarchicalGraph } from "./hierarchical.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, decisions: () => seen.filter((event) => event.type === "decision") };
}

const worker = (name: string, model: ScriptedChatModel) => defineAgent({ name, instructions: `You are ${name}. You do ${name}'s part of the work.`, tools: [], model, maxSteps: 2 });

describe("createHierarchicalGraph", () => {
  it("follows the coordinator's plan — B, then A, then finish — and keeps both results", async () => {
    const coordinator = scriptedModel()
      .answer({ next: "beta", instruction: "Find the date of the Moon landing.", reason: "the date comes first" })
      .answer({ next: "alpha", instruction: "Write one sentence with the date.", reason: "beta found the date; alpha writes" })
      .answer({ next: "finish", answer: "Apollo 11 landed on 20 July 1969 [apollo-11#2].", reason: "both results are in" });
    const alpha = scriptedModel().reply("Apollo 11 landed on 20 July 1969 [apollo-11#2].");
    const beta = scriptedModel().reply("The landing was on 20 July 1969 [apollo-11#2]. The crew were Armstrong and Aldrin.");
    const graph = createHierarchicalGraph({ coordinator: { model: coordinator }, workers: { alpha: worker("alpha", alpha), beta: worker("beta", beta) }, maxDelegations: 5 });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { task: "When did Apollo 11 land?" }, { events, model: scriptedModel() });

    // The workers received the coordinator's instructions; alpha also saw beta's result, quoted with its sources.
    expect(beta.requests[0]!.at(-1)!.content).toBe("Task: When did Apollo 11 land?\nInstruction: Find the date of the Moon landing.");
    expect(alpha.requests[0]!.at(-1)!.content).toBe(
      "Task: When did Apollo 11 land?\nInstruction: Write one sentence with the date.\n\nResults so far:\n[apollo-11#2] The landing was on 20 July 1969.\n[beta-1] The crew were Armstrong and Aldrin.",
    );
    // The final state has both results, in the order they were delegated, and the coordinator's answer.
    expect(state.delegations.map(({ index, worker: name, instruction, reason }) => ({ index, worker: name, instruction, reason }))).toEqual([
      { index: 1, worker: "beta", instruction: "Find the date of the Moon landing.", reason: "the date comes first" },
      { index: 2, worker: "alpha", instruction: "Write one sentence with the date.", reason: "beta found the date; alpha writes" },
    ]);
    expect(state.delegations.map((delegation) => delegation.result)).toEqual(["The landing was on 20 July 1969 [apollo-11#2]. The crew were Armstrong and Aldrin.", "Apollo 11 landed on 20 July 1969 [apollo-11#2]."]);
    expect(state.final).toEqual({ answer: "Apollo 11 landed on 20 July 1969 [apollo-11#2].", by: "coordinator" });
    expect(state.terminationReason).toBe("finished");

    // Every delegation (and the finish) is a decision event with its reason.
    expect(decisions().map((event) => event.type === "decision" && [event.next, event.round, event.reason])).toEqual([
      ["beta", 1, "the date comes first"],
      ["alpha", 2, "beta found the date; alpha writes"],
      ["finish", 3, "both results are in"],
    ]);
    // The coordinator saw each result before deciding, and which workers it had not asked yet.
    expect(coordinator.requests).toHaveLength(3);
    expect(coordinator.requests[1]!.at(-1)!.content).toBe(
      [
        "Task: When did Apollo 11 land?",
        "",
        "Workers:",
        "- alpha: You are alpha.",
        "- beta: You are beta.",
        "",
        "Delegations so far (1 of at most 5):",
        "1. beta was asked: Find the date of the Moon landing. Its result cites [apollo-11#2], [beta-1].",
        "",
        "Not asked yet: alpha.",
        "",
        "Results:",
        "[apollo-11#2] The landing was on 20 July 1969.",
        "[beta-1] The crew were Armstrong and Aldrin.",
      ].join("\n"),
    );
    expect(coordinator.requests[2]!.at(-1)!.content).toContain("Every worker has been asked at least once.");
  });

  it("lists unasked workers first, so a coordinator that names none (the offline model) asks each once, then finishes", async () => {
    const graph = createHierarchicalGraph({ coordinator: { model: new OfflineChatModel({}) }, workers: { alpha: worker("alpha", scriptedModel().reply("The first part is done [a#1].")), beta: worker("beta", scriptedModel().reply("The second part is done [b#1].")) } });
    const { state } = await run(graph, { task: "Do both parts." }, { model: scriptedModel() });
    expect(state.delegations.map((delegation) => delegation.worker)).toEqual(["alpha", "beta"]);
    expect(state.terminationReason).toBe("finished");
  });

  it("caps a coordinator that never finishes at maxDelegations, answering with the results", async () => {
    const coordinator = scriptedModel();
    for (let turn = 0; turn < 5; turn++) coordinator.answer({ next: "alpha", instruction: `Try again (${turn + 1}).`, reason: "not done yet" });
    const alpha = scriptedModel().reply("First try.").reply("Second try.").reply("Third try.");
    const graph = createHierarchicalGraph({ coordinator: { model: coordinator }, workers: { alpha: worker("alpha", alpha) }, maxDelegations: 3 });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { task: "Never enough." }, { events, model: scriptedModel() });
    expect(state.delegations.map((delegation) => delegation.instruction)).toEqual(["Try again (1).", "Try again (2).", "Try again (3)."]);
    expect(coordinator.requests).toHaveLength(3);
    expect(alpha.requests).toHaveLength(3);
    expect(state.terminationReason).toBe("max-delegations");
    expect(state.final).toEqual({ answer: "First try.\n\nSecond try.\n\nThird try.", by: "results" });
    expect(decisions().at(-1)).toMatchObject({ next: "finish", reason: expect.stringContaining("delegation limit (3)") });
  });

  it("delegates to a whole graph with its own input and output, and records a worker that fails", async () => {
    const inner = createHierarchicalGraph({ coordinator: { model: scriptedModel().answer({ next: "finish", answer: "Inner answer.", reason: "trivial" }) }, workers: { alpha: worker("alpha", scriptedModel()) } });
    const looping = defineAgent({ name: "looping", instructions: "Loops.", tools: [], model: scriptedModel().answer({ wrong: true }).answer({ wrong: true }), outputSchema: z.object({ value: z.string() }), maxSteps: 1 });
    const coordinator = scriptedModel()
      .answer({ next: "team", instruction: "Solve the sub-task.", reason: "the sub-team knows" })
      .answer({ next: "looping", instruction: "Give a value.", reason: "need a value" })
      .answer({ next: "finish", answer: "", reason: "done" });
    const graph = createHierarchicalGraph({
      coordinator: { model: coordinator },
      workers: { team: { worker: inner, description: "a sub-team", input: (delegation) => ({ task: delegation.instruction }), output: (state: { final?: { answer: string } }) => state.final?.answer ?? "" }, looping },
    });
    const { state } = await run(graph, { task: "Outer task." }, { model: scriptedModel() });
    expect(state.delegations.map(({ worker: name, result, error }) => ({ name, result, error }))).toEqual([
      { name: "team", result: "Inner answer.", error: undefined },
      { name: "looping", result: "", error: "invalid-output" },
    ]);
    expect(coordinator.requests[0]!.at(-1)!.content).toContain("- team: a sub-team\n- looping: Loops.");
    expect(coordinator.requests[2]!.at(-1)!.content).toContain("2. looping was asked: Give a value. It gave no result (invalid-output).");
    // An empty final answer falls back to the results.
    expect(state.final).toEqual({ answer: "Inner answer.", by: "results" });
  });

  it("finishes with the results when the budget runs out", async () => {
    const coordinator = scriptedModel().answer({ next: "alpha", instruction: "Work.", reason: "start" });
    const graph = createHierarchicalGraph({ coordinator: { model: coordinator }, workers: { alpha: worker("alpha", scriptedModel().reply("Partial result.")) } });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { task: "Task." }, { events, model: scriptedModel(), budget: { maxModelCalls: 2 } });
    expect(state.terminationReason).toBe("budget");
    expect(state.final).toEqual({ answer: "Partial result.", by: "results" });
    expect(decisions().at(-1)).toMatchObject({ next: "finish", reason: expect.stringContaining("budget") });
  });

  it("rejects options it cannot run with, saying what to pass", () => {
    expect(() => createHierarchicalGraph({ workers: {} })).toThrow(DefinitionError);
    expect(() => createHierarchicalGraph({ workers: {} })).toThrow(/at least one worker/);
    expect(() => createHierarchicalGraph({ workers: { finish: worker("x", scriptedModel()) } })).toThrow(/"finish" is the coordinator's way to stop/);
    expect(() => createHierarchicalGraph({ workers: { "bad name": worker("x", scriptedModel()) } })).toThrow(/letters, digits/);
    expect(() => createHierarchicalGraph({ workers: { a: worker("a", scriptedModel()) }, maxDelegations: 0 })).toThrow(/maxDelegations/);
  });
});
