import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, defineAgent, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import type { ScriptedChatModel } from "../testing/index.ts";
import { createEnsembleGraph } from "./ensemble.ts";

function members(replies: string[]): { agents: ReturnType<typeof defineAgent>[]; models: ScriptedChatModel[] } {
  const models = replies.map((reply) => scriptedModel().reply(reply));
  const agents = models.map((model, index) => defineAgent({ name: `member-${index + 1}`, instructions: "Answer the question.", tools: [], maxSteps: 1, model }));
  return { agents, models };
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision");
  return { events, decisions };
}

describe("ensemble", () => {
  it("votes: the majority of the members' normalised answers wins", async () => {
    const { agents, models } = members(["It is Paris. Answer: Paris", "Answer: Lyon", "Final answer: Paris"]);
    const { events, decisions } = recorder();
    const { state, usage } = await run(createEnsembleGraph({ members: agents }), { question: "What is the capital of France?" }, { events });
    expect(state.final).toMatchObject({ normalized: "paris", method: "vote", agreement: 2 / 3, votes: { paris: 2, lyon: 1 }, metaCalls: 0 });
    // The answer is the first agreeing member's full text.
    expect(state.final!.answer).toBe("It is Paris. Answer: Paris");
    expect(usage.modelCalls).toBe(3);
    // Every member was asked the same question, independently.
    expect(models.map((model) => model.requests[0]!.at(-1)!.content)).toEqual(Array(3).fill("What is the capital of France?"));
    expect(decisions()).toEqual([expect.objectContaining({ by: "ensemble", next: "finish", reason: 'vote: "paris" from 2 of 3 members ("paris" ×2, "lyon" ×1)' })]);
  });

  it("stacks: the meta-model sees every member's prediction, and its answer is the output", async () => {
    const { agents } = members(["I estimate 40 apples.", "About 42.", "Answer: 45"]);
    const metaModel = scriptedModel().reply("Weighing the three estimates, the answer is 42.");
    const { state, usage } = await run(createEnsembleGraph({ members: agents, combine: { stack: metaModel } }), { question: "How many apples?" });
    const request = metaModel.requests[0]!;
    expect(request[0]).toMatchObject({ role: "system" });
    const prompt = request.at(-1)!.content;
    expect(prompt).toContain("Question: How many apples?");
    for (const line of ["[member-1] I estimate 40 apples.", "[member-2] About 42.", "[member-3] Answer: 45"]) expect(prompt).toContain(line);
    expect(state.final).toMatchObject({ answer: "Weighing the three estimates, the answer is 42.", normalized: "42", method: "stack", agreement: 1 / 3, metaCalls: 1 });
    expect(usage.modelCalls).toBe(4);
  });

  it("stacks with a meta-agent of your own", async () => {
    const { agents } = members(["yes", "no"]);
    const judgeModel = scriptedModel().reply("yes");
    const judge = defineAgent({ name: "judge", instructions: "Pick the better-argued prediction.", tools: [], maxSteps: 1, model: judgeModel });
    const { state } = await run(createEnsembleGraph({ members: agents, combine: { stack: judge } }), { question: "q" });
    expect(judgeModel.requests[0]![0]!.content).toBe("Pick the better-argued prediction.");
    expect(state.final).toMatchObject({ answer: "yes", method: "stack", agreement: 0.5 });
  });

  it("averages numeric predictions", async () => {
    const { agents } = members(["Answer: 10", "Answer: 12", "I cannot tell.", "Answer: 14"]);
    const normalize = (text: string) => /-?\d+(?:\.\d+)?/.exec(text)?.[0] ?? "";
    const { state } = await run(createEnsembleGraph({ members: agents, combine: "average", normalize }), { question: "q" });
    expect(state.final).toMatchObject({ answer: "12", method: "average", agreement: 0.25 });
    expect(state.final!.spread).toBeCloseTo(Math.sqrt(8 / 3));
  });

  it("lets a member that runs out of budget abstain", async () => {
    const { agents } = members(["Answer: 1", "Answer: 1", "Answer: 2"]);
    const { state } = await run(createEnsembleGraph({ members: agents }), { question: "q" }, { budget: { maxModelCalls: 2 } });
    expect(state.predictions.filter((entry) => entry.error === "budget")).toHaveLength(1);
    expect(state.final!.votes).not.toHaveProperty("2");
  });

  it("rejects ensembles it cannot run", () => {
    const { agents } = members(["a", "b"]);
    expect(() => createEnsembleGraph({ members: [agents[0]!] })).toThrow(/at least two members/);
    expect(() => createEnsembleGraph({ members: [agents[0]!, agents[0]!] })).toThrow(/distinct names/);
    expect(() => createEnsembleGraph({ members: agents, combine: "median" as never })).toThrow(DefinitionError);
    expect(() => createEnsembleGraph({ members: agents, combine: { stack: {} as never } })).toThrow(/combine/);
  });
});
