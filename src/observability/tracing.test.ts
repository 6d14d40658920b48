import { HumanMessage } from "@langchain/core/messages";
import { END, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { run } from "../runtime/run.ts";
import { attachTracing, createTracerProvider } from "./tracing.ts";
import { scriptedModel } from "../testing/index.ts";
import { MODEL, PRICING, calculatorCall, mathAgent, runMathAgent, toolThenAnswer } from "./test-helpers.ts";

const exporter = new InMemorySpanExporter();
afterEach(() => exporter.reset());

function traced() {
  const provider = createTracerProvider({}, { exporter, processor: "simple", serviceName: "conclave-test" })!;
  const events = new RunEvents();
  const detach = attachTracing(events, provider.tracer);
  return { events, detach };
}

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((span) => span.name === name);
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => spans().find((candidate) => idOf(candidate) === span.parentSpanContext?.spanId);

describe("attachTracing on a real ReAct run", () => {
  it("builds one trace: run → nodes → model and tool calls, with GenAI attributes", async () => {
    const { events } = traced();
    const result = await runMathAgent(events);

    expect(spans().map((span) => span.name).sort()).toEqual(["chat gpt-test", "chat gpt-test", "conclave.run mathy", "execute_tool calculator", "node model", "node model", "node tools"]);
    expect(new Set(spans().map((span) => span.spanContext().traceId)).size).toBe(1);
    const [root] = named("conclave.run mathy");
    expect(root!.parentSpanContext).toBeUndefined();
    expect(root!.resource.attributes["service.name"]).toBe("conclave-test");
    expect(root!.status.code).toBe(SpanStatusCode.OK);
    expect(root!.attributes).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "mathy",
      "gen_ai.conversation.id": result.threadId,
      "conclave.run_id": result.runId,
      "conclave.thread_id": result.threadId,
      "conclave.graph": "mathy",
      "conclave.status": "done",
      "gen_ai.usage.input_tokens": 2200,
      "gen_ai.usage.output_tokens": 30,
      "conclave.model_calls": 2,
      "conclave.tool_calls": 1,
    });
    for (const node of [...named("node model"), ...named("node tools")]) expect(parentOf(node)).toBe(root);
    for (const chat of named("chat gpt-test")) expect(parentOf(chat)!.name).toBe("node model");
    expect(parentOf(named("execute_tool calculator")[0]!)!.name).toBe("node tools");
    // Each call sits in the node execution that made it, not just any node of that name.
    expect(new Set(named("chat gpt-test").map((chat) => chat.parentSpanContext?.spanId)).size).toBe(2);

    const [first] = named("chat gpt-test").sort((a, b) => Number(a.attributes["gen_ai.usage.input_tokens"]) - Number(b.attributes["gen_ai.usage.input_tokens"]));
    expect(first!.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-test",
      "gen_ai.response.model": "gpt-test",
      "gen_ai.provider.name": "openai",
      "gen_ai.agent.name": "mathy",
      "gen_ai.usage.input_tokens": 1000,
      "gen_ai.usage.output_tokens": 20,
      "conclave.cached": false,
      "conclave.node": "model",
      "conclave.tool_calls": 1,
    });
    expect(first!.attributes["conclave.cost_usd"]).toBeCloseTo(0.00104, 10);
    expect(named("execute_tool calculator")[0]!.attributes).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "calculator",
      "gen_ai.tool.call.id": "call_1",
      "gen_ai.agent.name": "mathy",
      "conclave.output_chars": 1,
    });
    expect(named("node tools")[0]!.attributes).toMatchObject({ "conclave.node": "tools", "conclave.step": 2 });
  });

  it("nests a subgraph's nodes under the node that runs it", async () => {
    const agent = createAgentGraph(mathAgent);
    const outer = new StateGraph(new StateSchema({ messages: MessagesValue }))
      .addNode("team", observeNode("team", (state: { messages: never }, config: LangGraphRunnableConfig) => agent.invoke(state, config)))
      .addEdge(START, "team")
      .addEdge("team", END)
      .compile();
    const { events } = traced();
    await run(outer, { messages: [new HumanMessage("What is 2 + 3?")] }, { events, model: toolThenAnswer(), modelInfo: MODEL, pricing: PRICING, graphName: "outer" });
    const [team] = named("node team");
    expect(parentOf(team!)!.name).toBe("conclave.run outer");
    for (const node of [...named("node model"), ...named("node tools")]) expect(parentOf(node)).toBe(team);
    for (const chat of named("chat gpt-test")) expect(parentOf(chat)!.name).toBe("node model");
  });

  it("marks a failed model call, its node and the run as errors", async () => {
    const { events } = traced();
    const failing = scriptedModel().respond(calculatorCall()).fail(Object.assign(new Error("401 invalid api key"), { status: 401 }));
    await expect(runMathAgent(events, { model: failing })).rejects.toThrow();

    const [root] = named("conclave.run mathy");
    expect(root!.status.code).toBe(SpanStatusCode.ERROR);
    expect(root!.attributes["conclave.status"]).toBe("failed");
    expect(typeof root!.attributes["error.type"]).toBe("string");
    const failedChat = named("chat gpt-test").find((span) => span.status.code === SpanStatusCode.ERROR)!;
    expect(failedChat.status.message).toContain("invalid api key");
    expect(failedChat.attributes["error.type"]).toBe("_OTHER");
    expect(failedChat.attributes).not.toHaveProperty("gen_ai.response.model");
    expect(parentOf(failedChat)!.status.code).toBe(SpanStatusCode.ERROR);
    expect(named("execute_tool calculator")[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe("attachTracing on synthetic events", () => {
  const base = (runId: string, at: number) => ({ runId, threadId: `thread-${runId}`, at });
  const usage = { modelCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, retries: 0, cachedCalls: 0, savedCostUsd: 0, byAgent: {}, byRound: {} };
  const start = (runId: string): ConclaveEvent => ({ ...base(runId, 1), type: "run-start", graph: "team", model: MODEL, input: {} });
  const node = (runId: string, type: "node-start" | "node-end", name: string, step: number, path?: string): ConclaveEvent =>
    type === "node-start" ? { ...base(runId, 2), type, node: name, step, namespace: "", ...(path ? { path } : {}) } : { ...base(runId, 8), type, node: name, step, namespace: "", durationMs: 6, ...(path ? { path } : {}) };

  it("parents by the longest path prefix that has a node span, and pairs path-less nodes by name and step", () => {
    const { events } = traced();
    const publish = (...list: ConclaveEvent[]) => list.forEach((event) => events.publish(event));
    publish(
      start("r1"),
      node("r1", "node-start", "team", 1, "team:1"),
      node("r1", "node-start", "research", 1, "team:1|research:2"),
      // No node span at "…|inner:3": the call belongs to the nearest enclosing node, research.
      { ...base("r1", 3), type: "llm-call-start", callId: "m1", model: "gpt-test", messageCount: 1, path: "team:1|research:2|inner:3", round: 2 },
      { ...base("r1", 4), type: "llm-call-end", callId: "m1", model: "gpt-test", latencyMs: 1, usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, costUsd: 0, cached: true, savedCostUsd: 0.5, toolCalls: [], text: "", path: "team:1|research:2|inner:3" },
      node("r1", "node-start", "plain", 5),
      node("r1", "node-start", "plain", 6),
      node("r1", "node-end", "plain", 5),
      { ...base("r1", 5), type: "retry", model: "gpt-test", attempt: 1, delayMs: 10, reason: "rate-limited", status: 429 },
      node("r1", "node-end", "research", 1, "team:1|research:2"),
      { ...base("r1", 9), type: "tool-call-start", callId: "t1", tool: "search", args: {}, path: "team:1|research:2" },
      { ...base("r1", 10), type: "run-end", status: "interrupted", durationMs: 9, usage },
    );
    const [root] = named("conclave.run team");
    const [team] = named("node team");
    const [research] = named("node research");
    expect(parentOf(team!)).toBe(root);
    expect(parentOf(research!)).toBe(team);
    const [chat] = named("chat gpt-test");
    expect(parentOf(chat!)).toBe(research);
    expect(chat!.attributes).toMatchObject({ "conclave.cached": true, "conclave.saved_cost_usd": 0.5, "conclave.round": 2 });
    const plain = named("node plain");
    expect(plain.map((span) => [span.attributes["conclave.step"], span.attributes["conclave.unfinished"]])).toEqual([[5, undefined], [6, true]]);
    // Its node had ended: the tool call falls back to the nearest open enclosing node.
    expect(parentOf(named("execute_tool search")[0]!)).toBe(team);
    expect(named("execute_tool search")[0]!.attributes["conclave.unfinished"]).toBe(true);
    expect(team!.attributes["conclave.unfinished"]).toBe(true);
    expect(root!.status.code).toBe(SpanStatusCode.OK);
    expect(root!.events.map((event) => [event.name, event.attributes?.["conclave.reason"]])).toEqual([["retry", "rate-limited"]]);
    expect(spans().every((span) => span.ended)).toBe(true);
  });

  it("gives each run its own trace on a shared emitter, ignores runs it did not see start, and ends open spans when detached", () => {
    const { events, detach } = traced();
    events.publish(start("a"));
    events.publish(start("b"));
    events.publish(node("a", "node-start", "work", 1, "work:1"));
    events.publish(node("ghost", "node-start", "work", 1, "work:9"));
    events.publish({ ...base("b", 3), type: "run-end", status: "done", durationMs: 2, usage });
    expect(spans().map((span) => span.name)).toEqual(["conclave.run team"]);
    detach();
    events.publish({ ...base("a", 3), type: "run-end", status: "done", durationMs: 2, usage });
    expect(spans()).toHaveLength(3);
    const traces = new Set(spans().map((span) => span.spanContext().traceId));
    expect(traces.size).toBe(2);
    expect(named("node work")[0]!.attributes["conclave.unfinished"]).toBe(true);
  });
});

describe("createTracerProvider", () => {
  it("is off unless an OTLP endpoint is configured or an exporter given", () => {
    expect(createTracerProvider({})).toBeUndefined();
    expect(createTracerProvider({ OTEL_SERVICE_NAME: "x" })).toBeUndefined();
    expect(createTracerProvider({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" })).toBeDefined();
    expect(createTracerProvider({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:1/v1/traces" })).toBeDefined();
    expect(createTracerProvider({}, { exporter })).toBeDefined();
  });

  it("is off when OTEL_SDK_DISABLED=true, even with an endpoint", () => {
    expect(createTracerProvider({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" })).toBeUndefined();
    expect(createTracerProvider({ OTEL_SDK_DISABLED: "TRUE" }, { exporter })).toBeUndefined();
  });

  it("names the service from OTEL_SERVICE_NAME, else the option, else conclave", async () => {
    const serviceOf = async (env: Record<string, string>, serviceName?: string) => {
      exporter.reset();
      const provider = createTracerProvider(env, { exporter, processor: "simple", ...(serviceName ? { serviceName } : {}) })!;
      provider.tracer.startSpan("probe").end();
      return spans()[0]!.resource.attributes["service.name"];
    };
    expect(await serviceOf({})).toBe("conclave");
    expect(await serviceOf({}, "worker")).toBe("worker");
    expect(await serviceOf({ OTEL_SERVICE_NAME: "ops-name" }, "worker")).toBe("ops-name");
  });
});
