import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ConfigSchema, MaxStepsExceededError, OfflineChatModel, run } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createCalculatorReAct, example } from "./react.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the react example on its sample, offline", () => {
  it("calls the calculator, reads its observation and answers with the number", async () => {
    const { state, usage } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}) });
    const observation = state.messages.find((message) => ToolMessage.isInstance(message));
    expect(observation?.text).toBe("7 * 12 * 24 = 2016");
    expect(example.output(state)).toMatchObject({ answer: expect.stringContaining("2016"), details: { steps: 2, toolCalls: ['calculator({"expression":"7 * 12 * 24"})'] } });
    expect([usage.modelCalls, usage.toolCalls]).toEqual([2, 1]);
  });

  it("stops a model that keeps calling tools at maxSteps (4)", async () => {
    const model = scriptedModel();
    for (let step = 0; step < 6; step++) model.callTools([{ name: "calculator", args: { expression: `${step} + 1` } }]);
    await expect(run(createCalculatorReAct(), { messages: [new HumanMessage("Count forever.")] }, { model })).rejects.toBeInstanceOf(MaxStepsExceededError);
    expect(model.callCount).toBe(4);
  });
});
