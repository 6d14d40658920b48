import { HumanMessage } from "@langchain/core/messages";
import { OutputValidationError, createAgentGraph, run } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { PlanSchema, createCoordinatorAgents } from "./agent.ts";

describe("the coordinator", () => {
  it("plans sub-questions as a structure validated by PlanSchema", async () => {
    const model = scriptedModel().answer({ subQuestions: [{ question: "When did Apollo 11 launch?" }, { question: "When did it land?" }] });
    const { planner } = createCoordinatorAgents({ model });
    const { state } = await run(createAgentGraph(planner), { messages: [new HumanMessage("Task: Describe the Apollo 11 timeline")] });
    expect(PlanSchema.parse(state.structuredResponse).subQuestions).toHaveLength(2);
    expect(model.requests[0]![0]!.content).toContain("Break the user's task into at most 4 focused sub-questions");
  });

  it("rejects a plan that does not fit the schema", async () => {
    const model = scriptedModel().answer({ subQuestions: "all of them" }).answer({ subQuestions: [{ question: "" }] });
    const { planner } = createCoordinatorAgents({ model });
    await expect(run(createAgentGraph(planner), { messages: [new HumanMessage("Task: x")] })).rejects.toBeInstanceOf(OutputValidationError);
  });

  it("writes the final answer from the approved claims, keeping their citations (offline model)", async () => {
    const { synthesizer } = createCoordinatorAgents();
    const { state } = await run(createAgentGraph(synthesizer), { messages: [new HumanMessage("Task: Who discovered penicillin?\n\nApproved claims:\n[penicillin#2] Alexander Fleming discovered penicillin in 1928.")] });
    expect(state.messages.at(-1)!.text).toBe("Alexander Fleming discovered penicillin in 1928. [penicillin#2]");
  });
});
