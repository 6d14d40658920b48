import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DefinitionError, MaxStepsExceededError, OfflineChatModel, defineTool, run, stepBudgetOf } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createReActGraph } from "./react.ts";

const multiply = defineTool({
  name: "multiply",
  description: "Multiplies two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a * b),
});

describe("ReAct pattern", () => {
  it("calls a tool, reads its observation and answers", async () => {
    const model = scriptedModel().callTools([{ name: "multiply", args: { a: 12, b: 24 }, id: "call_1" }]).reply("12 × 24 = 288.");
    const { state, usage } = await run(createReActGraph({ tools: [multiply] }), { messages: [new HumanMessage("What is 12 times 24?")] }, { model });
    expect(model.requests[1]!.map((message) => message.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(model.requests[1]![3]).toMatchObject({ role: "tool", content: "288", toolCallId: "call_1" });
    expect(state.messages.at(-1)!.text).toBe("12 × 24 = 288.");
    expect([state.steps, usage.modelCalls]).toEqual([2, 2]);
  });

  it("enforces maxSteps: a model still calling tools at the last step ends the loop with the conversation so far", async () => {
    const model = scriptedModel();
    for (let step = 0; step < 5; step++) model.callTools([{ name: "multiply", args: { a: step, b: 2 } }]);
    const error = await run(createReActGraph({ tools: [multiply], maxSteps: 2, name: "looper" }), { messages: [new HumanMessage("Loop.")] }, { model }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MaxStepsExceededError);
    expect((error as MaxStepsExceededError).message).toContain('"looper" used all 2 steps');
    expect(model.callCount).toBe(2);
  });

  it("is the agent loop itself: its step budget, a structured answer, defineAgent's validation", async () => {
    expect(stepBudgetOf(createReActGraph({ tools: [multiply], maxSteps: 4 }))).toBe(4 * 2 + 3);
    const schema = z.object({ product: z.number() });
    const model = scriptedModel().callTools([{ name: "multiply", args: { a: 6, b: 7 } }]).reply("42").answer({ product: 42 });
    const { state } = await run(createReActGraph({ tools: [multiply], outputSchema: schema }), { messages: [new HumanMessage("6 × 7?")] }, { model });
    expect(state.structuredResponse).toEqual({ product: 42 });
    expect(() => createReActGraph({ tools: [multiply], maxSteps: 0 })).toThrow(DefinitionError);
    expect(() => createReActGraph({ tools: [multiply, multiply] })).toThrow(/two tools named "multiply"/);
  });

  it("runs offline: the offline model picks the calculator for an arithmetic question", async () => {
    const calculate = defineTool({
      name: "calculate",
      description: "Evaluates an arithmetic expression (a product of two numbers).",
      schema: z.object({ expression: z.string() }),
      run: ({ expression }) => {
        const [a, b] = expression.split("*").map(Number);
        return String(a! * b!);
      },
    });
    const { state } = await run(createReActGraph({ tools: [calculate] }), { messages: [new HumanMessage("What is 12 * 24?")] }, { model: new OfflineChatModel({}) });
    expect(state.messages.some((message) => message.getType() === "tool" && message.text === "288")).toBe(true);
    expect(state.messages.at(-1)!.text).toContain("288");
  });
});
