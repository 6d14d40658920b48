import { HumanMessage } from "@langchain/core/messages";
import { END, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConclaveError, OfflineChatModel, RunAbortedError, RunEvents, StepLimitError, createAgentGraph, defineAgent, defineTool, observeNode, run, stream } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

const Counter = new StateSchema({ count: z.number().default(0) });

describe("run()", () => {
  it("reports nodes wrapped with observeNode, with steps and durations", async () => {
    const graph = new StateGraph(Counter)
      .addNode("first", observeNode("first", (state: typeof Counter.State) => ({ count: state.count + 1 })))
      .addNode("second", observeNode("second", async (state: typeof Counter.State) => ({ count: state.count * 10 })))
      .addEdge(START, "first")
      .addEdge("first", "second")
      .addEdge("second", END)
      .compile();
    const { events, seen } = recorder();
    const result = await run(graph, { count: 1 }, { events, threadId: "thread-1" });
    expect(result.state.count).toBe(20);
    expect(result.threadId).toBe("thread-1");
    const nodes = seen.filter((event) => event.type === "node-start" || event.type === "node-end").map((event) => `${event.type}:${"node" in event ? event.node : ""}:${"step" in event ? event.step : ""}`);
    expect(nodes).toEqual(["node-start:first:1", "node-end:first:1", "node-start:second:2", "node-end:second:2"]);
    expect(seen.every((event) => event.threadId === "thread-1" && event.runId === result.runId)).toBe(true);
  });

  it("names the subgraph an agent's nodes run in", async () => {
    const agentGraph = createAgentGraph(defineAgent({ name: "inner", instructions: "x", tools: [], maxSteps: 2 }));
    const outer = new StateGraph(new StateSchema({ messages: MessagesValue })).addNode("team", agentGraph).addEdge(START, "team").addEdge("team", END).compile();
    const { events, seen } = recorder();
    await run(outer, { messages: [new HumanMessage("hi")] }, { events, model: scriptedModel().reply("hello") });
    const modelNode = seen.find((event) => event.type === "node-start" && event.node === "model");
    expect(modelNode).toMatchObject({ namespace: "team" });
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ agent: "inner", node: "model" });
  });

  it("stops a looping graph at the step limit with a StepLimitError that says how to raise it", async () => {
    const loop = new StateGraph(Counter)
      .addNode("spin", (state: typeof Counter.State) => ({ count: state.count + 1 }))
      .addEdge(START, "spin")
      .addConditionalEdges("spin", () => "spin", ["spin"])
      .compile();
    const { events, seen } = recorder();
    const error = await run(loop, { count: 0 }, { stepLimit: 7, events }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepLimitError);
    expect((error as Error).message).toContain("after 7 graph steps");
    expect((error as Error).message).toContain("--step-limit");
    expect(seen.at(-1)).toMatchObject({ type: "run-end", status: "failed", error: { code: "STEP_LIMIT" } });
  });

  it("cancels through its AbortSignal, including a running tool", async () => {
    let toolSignal: AbortSignal | undefined;
    const wait = defineTool({
      name: "wait",
      description: "Waits.",
      schema: z.object({}),
      run: (_args, { signal }) => {
        toolSignal = signal;
        return new Promise(() => undefined);
      },
    });
    const controller = new AbortController();
    const model = scriptedModel().callTools([{ name: "wait", args: {} }]).reply("never");
    const { events, seen } = recorder();
    events.on("tool-call-start", () => setTimeout(() => controller.abort(new Error("user pressed stop")), 20));
    const error = await run(createAgentGraph(defineAgent({ name: "waiter", instructions: "x", tools: [wait], maxSteps: 3 })), { messages: [new HumanMessage("wait")] }, { model, events, signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RunAbortedError);
    expect((error as Error).message).toContain("user pressed stop");
    expect(toolSignal?.aborted).toBe(true);
    expect(seen.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
  });

  it("cancels a run that passes its hard time limit, tools included", async () => {
    let toolSignal: AbortSignal | undefined;
    const wait = defineTool({ name: "wait", description: "Waits.", schema: z.object({}), run: (_args, { signal }) => ((toolSignal = signal), new Promise(() => undefined)) });
    const model = scriptedModel().callTools([{ name: "wait", args: {} }]).reply("never");
    const started = Date.now();
    const error = await run(createAgentGraph(defineAgent({ name: "slowpoke", instructions: "x", tools: [wait], maxSteps: 3 })), { messages: [new HumanMessage("wait")] }, { model, runTimeoutMs: 100 }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((error as ConclaveError).code).toBe("RUN_TIMEOUT");
    expect((error as Error).message).toContain("0.1 s limit");
    expect(toolSignal?.aborted).toBe(true);
  });

  it("wraps an unexpected node failure in a ConclaveError that keeps the cause", async () => {
    const broken = new StateGraph(Counter)
      .addNode("boom", () => {
        throw new TypeError("cannot read properties of undefined");
      })
      .addEdge(START, "boom")
      .compile();
    const error = await run(broken, { count: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConclaveError);
    expect((error as ConclaveError).category).toBe("system");
    expect((error as Error).message).toContain("cannot read properties of undefined");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it("uses the offline model when no model is given or configured", async () => {
    const graph = createAgentGraph(defineAgent({ name: "echo", instructions: "x", tools: [], maxSteps: 2 }));
    const result = await run(graph, { messages: [new HumanMessage("What is in this note?\n[note#1] The meeting moved to Tuesday.")] });
    expect(result.model).toEqual({ provider: "offline", name: "conclave-offline", offline: true });
    expect(result.state.messages.at(-1)?.text).toBe("The meeting moved to Tuesday. [note#1]");
  });
});

describe("stream()", () => {
  it("yields the run's events as they happen, tokens included, and resolves the result", async () => {
    const graph = createAgentGraph(defineAgent({ name: "streamer", instructions: "x", tools: [], maxSteps: 2 }));
    const running = stream(graph, { messages: [new HumanMessage("Summarise.\n[doc#1] Streams deliver events in order.")] }, { model: new OfflineChatModel({}) });
    const types: string[] = [];
    let text = "";
    for await (const event of running) {
      types.push(event.type);
      if (event.type === "token") text += event.text;
    }
    const result = await running.result;
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    expect(types).toContain("token");
    expect(text).toBe("Streams deliver events in order. [doc#1]");
    expect(result.usage.modelCalls).toBe(1);
  });

  it("ends the iteration and rejects the result when the run fails", async () => {
    const graph = createAgentGraph(defineAgent({ name: "failing", instructions: "x", tools: [], maxSteps: 2 }));
    const running = stream(graph, { messages: [new HumanMessage("hi")] }, { model: scriptedModel().fail(new Error("model exploded")) });
    const types: string[] = [];
    for await (const event of running) types.push(event.type);
    expect(types).toContain("error");
    await expect(running.result).rejects.toThrow("model exploded");
  });
});
