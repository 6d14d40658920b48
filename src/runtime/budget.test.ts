import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesValue, Send, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { BudgetExceededError, createAgentGraph, defineAgent, isBudgetExceeded, run } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";

/** A panel of `width` agents asked in parallel, each answer costing exactly 100 tokens. */
function parallelPanel(width: number) {
  const model = scriptedModel();
  for (let index = 0; index < width * 3; index++) model.respond(new AIMessage({ content: `answer ${index}`, usage_metadata: { input_tokens: 60, output_tokens: 40, total_tokens: 100 } }));
  const agent = createAgentGraph(defineAgent({ name: "member", instructions: "Answer.", tools: [], maxSteps: 2, model }));
  const State = new StateSchema({ messages: MessagesValue });
  const ask = async (_: unknown, config: LangGraphRunnableConfig) => {
    try {
      await agent.invoke({ messages: [new HumanMessage("go")] }, config);
      return { messages: [new AIMessage("answered")] };
    } catch (error) {
      if (isBudgetExceeded(error)) return { messages: [new AIMessage("refused")] };
      throw error;
    }
  };
  const graph = new StateGraph(State)
    .addNode("ask", ask)
    .addConditionalEdges(START, () => Array.from({ length: width }, () => new Send("ask", {})), ["ask"])
    .addEdge("ask", END)
    .compile();
  return { graph, model };
}

describe("run budgets", () => {
  it("never lets parallel branches pass the model-call cap together", async () => {
    const { graph } = parallelPanel(6);
    const { state, usage } = await run(graph, { messages: [] }, { budget: { maxModelCalls: 4 } });
    expect(usage.modelCalls).toBe(4);
    expect(state.messages.filter((message) => message.text === "refused")).toHaveLength(2);
  });

  it("counts calls in flight at their estimate against a token cap", async () => {
    // One 100-token call, then three calls start in parallel with 180 tokens left.
    const { graph: panel } = parallelPanel(3);
    const warm = createAgentGraph(defineAgent({ name: "warm", instructions: "x", tools: [], maxSteps: 2, model: scriptedModel().respond(new AIMessage({ content: "w", usage_metadata: { input_tokens: 50, output_tokens: 50, total_tokens: 100 } })) }));
    const chain = new StateGraph(new StateSchema({ messages: MessagesValue }))
      .addNode("warm", warm)
      .addNode("panel", panel)
      .addEdge(START, "warm")
      .addEdge("warm", "panel")
      .addEdge("panel", END)
      .compile();
    const { state, usage } = await run(chain, { messages: [new HumanMessage("go")] }, { budget: { maxTokens: 280 } });
    // The first starts (100 < 280 used); its estimate (prompt + 512 for the answer) then fills the
    // rest, so the other two are refused. Without counting calls in flight all three would start.
    expect(usage.modelCalls).toBe(2);
    expect(usage.totalTokens).toBe(200);
    expect(state.messages.filter((message) => message.text === "refused")).toHaveLength(2);
  });

  it("says which cap was hit and how to raise it", () => {
    const error = new BudgetExceededError("maxTokens", 200, 230);
    expect(error.message).toContain("230 tokens used of 200 tokens allowed");
    expect(error.message).toContain("--max-tokens");
    expect(isBudgetExceeded(error)).toBe(true);
  });
});
