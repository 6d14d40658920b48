import { z } from "zod";
import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { defineTool, RunEvents, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createChainOfThoughtGraph } from "./chain-of-thought.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision").map(({ next, reason }) => ({ next, reason }));
  return { events, decisions };
}

const TASK = "A shop has 3 boxes of 12 pens and sells 7 pens. How many pens are left?";

describe("chain of thought", () => {
  it("plans, runs each step on the task and every earlier result, and answers from the synthesis call", async () => {
    const model = scriptedModel()
      .answer({ steps: ["Count the pens in the boxes.", "Subtract the pens sold.", "State the pens left."] })
      .reply("3 * 12 = 36 pens.")
      .reply("36 - 7 = 29 pens.")
      .reply("29 pens are left.")
      .reply("The shop has 29 pens left.");
    const { events, decisions } = recorder();
    const { state, usage } = await run(createChainOfThoughtGraph({ model, maxSteps: 5 }), { task: TASK }, { events });

    expect(state.plan).toEqual(["Count the pens in the boxes.", "Subtract the pens sold.", "State the pens left."]);
    expect(state.steps.map(({ index, output, modelCalls }) => ({ index, output, modelCalls }))).toEqual([
      { index: 0, output: "3 * 12 = 36 pens.", modelCalls: 1 },
      { index: 1, output: "36 - 7 = 29 pens.", modelCalls: 1 },
      { index: 2, output: "29 pens are left.", modelCalls: 1 },
    ]);
    // The final answer is the synthesis call's, not the last step's.
    expect(state.answer).toBe("The shop has 29 pens left.");
    expect(usage.modelCalls).toBe(5);

    // Step k's request holds the task and the outputs of the steps before k — and none after.
    const [planRequest, first, second, third, synthesis] = model.requests.map((request) => request.at(-1)!.content);
    expect(planRequest).toContain(`[task] ${TASK}`);
    expect(first).toContain(`[task] ${TASK}`);
    expect(first).toContain("Carry out step 1 of 3: Count the pens in the boxes.");
    expect(first).not.toContain("[step-");
    expect(second).toContain("[step-1] 3 * 12 = 36 pens.");
    expect(second).not.toContain("[step-2]");
    expect(second).toContain("Carry out step 2 of 3: Subtract the pens sold.");
    expect(third).toContain("[step-1] 3 * 12 = 36 pens.\n[step-2] 36 - 7 = 29 pens.");
    expect(third).not.toContain("[step-3]");
    expect(synthesis).toContain("[step-1] 3 * 12 = 36 pens.\n[step-2] 36 - 7 = 29 pens.\n[step-3] 29 pens are left.");
    expect(synthesis).toContain(`give the final answer to the task: ${TASK}`);

    expect(decisions()).toEqual([
      { next: "step 1", reason: "plan of 3 step(s)" },
      { next: "step 2", reason: "step 1/3 done" },
      { next: "step 3", reason: "step 2/3 done" },
      { next: "synthesis", reason: "step 3/3 done" },
    ]);
  });

  it("cuts a long plan to maxSteps, and falls back to the task as the only step when the plan is empty", async () => {
    const long = scriptedModel().answer({ steps: ["a", "b", "c", "d"] }).reply("A").reply("B").reply("done");
    const { events, decisions } = recorder();
    const { state } = await run(createChainOfThoughtGraph({ model: long, maxSteps: 2 }), { task: "Do it." }, { events });
    expect(state.plan).toEqual(["a", "b"]);
    expect(state.steps.map((step) => step.output)).toEqual(["A", "B"]);
    expect(decisions()[0]).toEqual({ next: "step 1", reason: "plan of 2 step(s), cut from 4 to maxSteps 2" });

    const empty = scriptedModel().answer({ steps: [] }).reply("42").reply("The answer is 42.");
    const { state: fallback } = await run(createChainOfThoughtGraph({ model: empty, maxSteps: 3 }), { task: "What is six times seven?" });
    expect(fallback.plan).toEqual(["What is six times seven?"]);
    expect(fallback.answer).toBe("The answer is 42.");
  });

  it("quotes every line of a multi-line task as material, and drops citation markers from plan steps", async () => {
    const model = scriptedModel().answer({ steps: ["Add the two numbers. [task]"] }).reply("5").reply("5");
    const { state } = await run(createChainOfThoughtGraph({ model, maxSteps: 2 }), { task: "First number: 2.\n\nSecond number: 3." });
    expect(state.plan).toEqual(["Add the two numbers."]);
    expect(model.requests[1]!.at(-1)!.content).toBe("Carry out step 1 of 1: Add the two numbers.\n\n[task] First number: 2.\n[task] Second number: 3.");
  });

  it("lets steps use tools: a step is a small ReAct loop", async () => {
    const multiply = defineTool({ name: "multiply", description: "Multiplies two numbers.", schema: z.object({ a: z.number(), b: z.number() }), run: ({ a, b }) => String(a * b) });
    const model = scriptedModel()
      .answer({ steps: ["Multiply 3 by 12."] })
      .callTools([{ name: "multiply", args: { a: 3, b: 12 } }])
      .reply("36")
      .reply("36 pens.");
    const { state } = await run(createChainOfThoughtGraph({ model, maxSteps: 3, tools: [multiply] }), { task: "3 boxes of 12 pens: how many pens?" });
    expect(state.steps).toEqual([{ index: 0, step: "Multiply 3 by 12.", output: "36", modelCalls: 2 }]);
    expect(model.requests[2]).toContainEqual(expect.objectContaining({ role: "tool", content: "36" }));
    expect(state.answer).toBe("36 pens.");
  });

  it("ends with the last step's result when the budget runs out", async () => {
    const model = scriptedModel().answer({ steps: ["one", "two"] }).reply("first result").reply("unused").reply("unused");
    const { events, decisions } = recorder();
    const { state } = await run(createChainOfThoughtGraph({ model, maxSteps: 3 }), { task: "t" }, { events, budget: { maxModelCalls: 2 } });
    expect(state.stopped).toBe("budget");
    expect(state.answer).toBe("first result");
    expect(decisions().at(-1)).toEqual({ next: "finish", reason: "budget spent before step 2; answering with the last step's result" });
  });

  it("rejects bad options", () => {
    expect(() => createChainOfThoughtGraph({ maxSteps: 0 })).toThrow(DefinitionError);
    expect(() => createChainOfThoughtGraph({ maxSteps: 1.5 })).toThrow(/maxSteps/);
  });
});
