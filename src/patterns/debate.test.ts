import { describe, expect, it } from "vitest";
import { RunEvents, createDebateGraph, defineAgent, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import type { ScriptedChatModel } from "../testing/index.ts";
import { majority, normalizeAnswer, summarize } from "./answers.ts";

function panel(replies: string[][]): { solvers: ReturnType<typeof defineAgent>[]; models: ScriptedChatModel[] } {
  const models = replies.map((answers) => answers.reduce((model, answer) => model.reply(answer), scriptedModel()));
  const solvers = models.map((model, index) => defineAgent({ name: `solver-${index + 1}`, instructions: "Solve the problem.", tools: [], maxSteps: 2, model }));
  return { solvers, models };
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

describe("panel debate", () => {
  it("converges in round 2 when the dissenter reads the others' answers", async () => {
    const { solvers, models } = panel([
      ["7 * 6 = 42, so the answer is 42.", "I keep 42."],
      ["Six sevens make 42.", "Still 42."],
      ["I think it is 41.", "Having checked the others' reasoning, 7 * 6 = 42. Answer: 42"],
    ]);
    const { events, seen } = recorder();
    const { state, usage } = await run(createDebateGraph({ solvers, maxRounds: 3 }), { question: "What is 7 * 6?" }, { events });
    expect(state.rounds.map((round) => [round.round, round.agreement, round.majority, round.changed])).toEqual([
      [1, 2 / 3, "42", 3],
      [2, 1, "42", 1],
    ]);
    expect(state.terminationReason).toBe("consensus");
    expect(state.final).toMatchObject({ normalized: "42", method: "consensus", agreement: 1 });
    // Round 2: each solver saw the other two answers and its own, not itself as "another agent".
    const secondPrompt = models[2]!.requests[1]!.at(-1)!.content;
    expect(secondPrompt).toContain("What is 7 * 6?");
    expect(secondPrompt).toContain("(solver-1) 7 * 6 = 42, so the answer is 42.");
    expect(secondPrompt).toContain("(solver-2) Six sevens make 42.");
    expect(secondPrompt).not.toContain("(solver-3)");
    expect(secondPrompt).toContain("Your previous answer: I think it is 41.");
    expect(models[0]!.requests[0]!.at(-1)!.content).toBe("What is 7 * 6?");
    // Model calls are recorded per answer, so debate can be compared at equal compute.
    expect(state.answers.reduce((sum, answer) => sum + answer.modelCalls, 0)).toBe(6);
    expect(usage.modelCalls).toBe(6);
    const rounds = seen.filter((event) => event.type === "round-end");
    expect(rounds.map((event) => event.type === "round-end" && event.measures.agreement)).toEqual([2 / 3, 1]);
  });

  it("decides by majority vote when the panel never converges", async () => {
    const { solvers } = panel([
      ["The answer is 10.", "Still 10."],
      ["I get 10.", "10 again."],
      ["It must be 12.", "I stand by 12."],
    ]);
    const { state } = await run(createDebateGraph({ solvers, maxRounds: 2 }), { question: "What is 5 + 5?" });
    expect(state.terminationReason).toBe("no-change");
    expect(state.rounds.map((round) => round.agreement)).toEqual([2 / 3, 2 / 3]);
    expect(state.final).toEqual({ answer: "Still 10.", normalized: "10", method: "majority", agreement: 2 / 3, judgeCalls: 0 });
  });

  it("stops at the round limit and can let a judge decide", async () => {
    const { solvers } = panel([
      ["It is 3.", "Now 4."],
      ["It is 5.", "Now 6."],
    ]);
    const judgeModel = scriptedModel().reply("Answer: 6");
    const judge = defineAgent({ name: "judge", instructions: "Pick the right answer.", tools: [], maxSteps: 2, model: judgeModel });
    const { state } = await run(createDebateGraph({ solvers, maxRounds: 2, aggregate: "judge", judge }), { question: "What is 2 * 3?" });
    expect(state.terminationReason).toBe("max-rounds");
    expect(state.final).toMatchObject({ answer: "Answer: 6", normalized: "6", method: "judge", judgeCalls: 1 });
    const request = judgeModel.requests[0]!.at(-1)!.content;
    expect(request).toContain("[solver-1] Now 4.");
    expect(request).toContain("[solver-2] Now 6.");
  });

  it("keeps the majority when the judge runs out of budget", async () => {
    const { solvers } = panel([
      ["It is 3.", "Now 4."],
      ["It is 3.", "Now 6."],
      ["It is 5.", "Now 6."],
    ]);
    const judge = defineAgent({ name: "judge", instructions: "Pick.", tools: [], maxSteps: 2, model: scriptedModel().reply("Answer: 4") });
    const { state, usage } = await run(createDebateGraph({ solvers, maxRounds: 2, aggregate: "judge", judge }), { question: "q" }, { budget: { maxModelCalls: 6 } });
    expect(usage.modelCalls).toBe(6);
    expect(state.final).toMatchObject({ normalized: "6", method: "majority", judgeCalls: 0 });
  });

  it("rejects a panel that cannot debate", () => {
    const { solvers } = panel([["x"]]);
    expect(() => createDebateGraph({ solvers })).toThrow(/at least two solvers/);
    const two = panel([["x"], ["y"]]).solvers;
    expect(() => createDebateGraph({ solvers: two, aggregate: "judge" })).toThrow(/needs a judge/);
  });
});

describe("answer helpers", () => {
  it("normalises answers to what they conclude", () => {
    expect(normalizeAnswer("12*(7+5)-3 = 141.")).toBe("141");
    expect(normalizeAnswer("Step 1: 3 + 4 = 7. #### 1,200")).toBe("1200");
    expect(normalizeAnswer("Final answer: Paris. It is in France.")).toBe("paris");
    expect(normalizeAnswer("Yes, it is. [doc#2]")).toBe("yes it is");
  });

  it("finds the majority, ties going to the first seen", () => {
    expect(majority(["a", "b", "b", "a", "c"])).toEqual({ value: "a", count: 2 });
    expect(majority([])).toEqual({ value: undefined, count: 0 });
  });

  it("summarises long answers to their opening and their conclusion", () => {
    const long = `${"Some reasoning goes here. ".repeat(40)}So the answer is 17.`;
    const short = summarize(long, 120);
    expect(short.length).toBeLessThan(160);
    expect(short.endsWith("So the answer is 17.")).toBe(true);
    expect(summarize("short", 120)).toBe("short");
  });
});
