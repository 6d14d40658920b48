import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { tool as langchainTool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MaxStepsExceededError, OutputValidationError, RunEvents, createAgentGraph, defineAgent, defineTool, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";

const add = defineTool({
  name: "add",
  description: "Adds two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

const explode = defineTool({
  name: "explode",
  description: "Always fails.",
  schema: z.object({}),
  run: () => {
    throw new Error("disk on fire");
  },
});

const slow = defineTool({
  name: "slow",
  description: "Never finishes in time.",
  schema: z.object({}),
  timeoutMs: 50,
  run: () => new Promise(() => undefined),
});

function agentWith(tools = [add], maxSteps = 5) {
  return defineAgent({ name: "mathy", instructions: "You add numbers with tools.", tools, maxSteps });
}

function collect(events: RunEvents): ConclaveEvent[] {
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return seen;
}

describe("the ReAct loop with a scripted model", () => {
  it("sends the instructions, the task and each tool result paired with its call id", async () => {
    const model = scriptedModel().callTools([{ name: "add", args: { a: 2, b: 3 }, id: "call_a" }]).reply("2 + 3 = 5");
    const result = await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("What is 2 + 3?")] }, { model });

    expect(model.requests).toHaveLength(2);
    expect(model.requests[0]).toEqual([
      { role: "system", content: "You add numbers with tools." },
      { role: "user", content: "What is 2 + 3?" },
    ]);
    const second = model.requests[1]!;
    expect(second.map((message) => message.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(second[2]!.toolCalls).toEqual([{ id: "call_a", name: "add", args: { a: 2, b: 3 } }]);
    expect(second[3]).toMatchObject({ role: "tool", content: "5", toolCallId: "call_a", status: "success" });

    expect(result.state.steps).toBe(2);
    expect(result.state.messages.at(-1)?.text).toBe("2 + 3 = 5");
    expect(result.usage.modelCalls).toBe(2);
    expect(result.usage.toolCalls).toBe(1);
  });

  it("runs parallel tool calls and answers each id", async () => {
    const model = scriptedModel()
      .callTools([
        { name: "add", args: { a: 1, b: 1 }, id: "c1" },
        { name: "add", args: { a: 2, b: 2 }, id: "c2" },
      ])
      .reply("2 and 4");
    await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("two sums")] }, { model });
    const tools = model.requests[1]!.filter((message) => message.role === "tool");
    expect(tools.map((message) => [message.toolCallId, message.content])).toEqual([["c1", "2"], ["c2", "4"]]);
  });

  it("turns an unknown tool name into an observation listing the available tools", async () => {
    const model = scriptedModel().callTools([{ name: "multiply", args: { a: 2, b: 3 }, id: "c1" }]).reply("sorry");
    const result = await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("2*3")] }, { model });
    const observation = model.requests[1]!.find((message) => message.role === "tool")!;
    expect(observation.status).toBe("error");
    expect(observation.content).toContain('no tool named "multiply"');
    expect(observation.content).toContain("Available tools: add");
    expect(result.state.messages.at(-1)?.text).toBe("sorry");
  });

  it("turns arguments that fail the zod schema into an observation the model can fix", async () => {
    const model = scriptedModel()
      .callTools([{ name: "add", args: { a: "two", b: 3 }, id: "bad" }])
      .callTools([{ name: "add", args: { a: 2, b: 3 }, id: "good" }])
      .reply("5");
    const events = new RunEvents();
    const seen = collect(events);
    await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("2+3")] }, { model, events });
    const first = model.requests[1]!.find((message) => message.toolCallId === "bad")!;
    expect(first.status).toBe("error");
    expect(first.content).toContain("did not match expected schema");
    expect(first.content).toContain("expected number, received string");
    expect(first.content).toContain("Please fix your mistakes");
    const second = model.requests[2]!.find((message) => message.toolCallId === "good")!;
    expect(second.content).toBe("5");
    const ends = seen.filter((event) => event.type === "tool-call-end");
    expect(ends.map((event) => Boolean(event.type === "tool-call-end" && event.error))).toEqual([true, false]);
  });

  it("reports a throwing tool and a timed-out tool as error observations, not crashes", async () => {
    const model = scriptedModel()
      .callTools([
        { name: "explode", args: {}, id: "e1" },
        { name: "slow", args: {}, id: "s1" },
      ])
      .reply("both failed");
    const started = Date.now();
    const result = await run(createAgentGraph(agentWith([add, explode, slow])), { messages: [new HumanMessage("go")] }, { model });
    expect(Date.now() - started).toBeLessThan(5_000);
    const tools = model.requests[1]!.filter((message) => message.role === "tool");
    expect(tools.find((message) => message.toolCallId === "e1")!.content).toContain("disk on fire");
    expect(tools.find((message) => message.toolCallId === "s1")!.content).toContain("timed out after 50 ms");
    expect(result.state.messages.at(-1)?.text).toBe("both failed");
  });

  it("retries a tool whose failure is worth retrying, when the tool says so", async () => {
    let calls = 0;
    const flaky = defineTool({
      name: "flaky_api",
      description: "Calls an unreliable API.",
      schema: z.object({}),
      retries: 2,
      run: () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return "ok at last";
      },
    });
    const model = scriptedModel().callTools([{ name: "flaky_api", args: {}, id: "f" }]).reply("done");
    await run(createAgentGraph(agentWith([flaky])), { messages: [new HumanMessage("go")] }, { model });
    expect(calls).toBe(3);
    expect(model.requests[1]!.find((message) => message.toolCallId === "f")!.content).toBe("ok at last");
  });

  it("accepts plain LangChain tools next to Conclave tools", async () => {
    const upper = langchainTool(({ text }: { text: string }) => text.toUpperCase(), { name: "upper", description: "Upper-cases text.", schema: z.object({ text: z.string() }) });
    const model = scriptedModel().callTools([{ name: "upper", args: { text: "hi" }, id: "u" }]).reply("HI");
    await run(createAgentGraph(agentWith([add, upper])), { messages: [new HumanMessage("shout hi")] }, { model });
    expect(model.requests[1]!.find((message) => message.toolCallId === "u")!.content).toBe("HI");
  });

  it("feeds malformed tool-call JSON back to the model instead of stopping silently", async () => {
    const broken = new AIMessage({
      content: "",
      tool_calls: [],
      invalid_tool_calls: [{ type: "invalid_tool_call", id: "bad_json", name: "add", args: '{"a": 1, "b":', error: "Unexpected end of JSON input" }],
    });
    const model = scriptedModel().respond(broken).callTools([{ name: "add", args: { a: 1, b: 2 }, id: "ok" }]).reply("3");
    const result = await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("1+2")] }, { model });
    const second = model.requests[1]!;
    expect(second[2]!.toolCalls?.map((call) => call.id)).toEqual(["bad_json"]);
    const feedback = second.find((message) => message.toolCallId === "bad_json")!;
    expect(feedback.status).toBe("error");
    expect(feedback.content).toContain("not valid JSON");
    expect(feedback.content).toContain('{"a": 1, "b":');
    expect(result.state.messages.at(-1)?.text).toBe("3");
  });

  it("raises MaxStepsExceededError carrying the partial conversation", async () => {
    const model = scriptedModel();
    for (let i = 0; i < 5; i++) model.callTools([{ name: "add", args: { a: i, b: 1 }, id: `loop_${i}` }]);
    const error = await run(createAgentGraph(agentWith([add], 3)), { messages: [new HumanMessage("loop forever")] }, { model }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MaxStepsExceededError);
    const partial = (error as MaxStepsExceededError<{ messages: unknown[]; steps: number }>).partialState;
    expect(partial.steps).toBe(3);
    // system prompt is not state: user + (assistant, tool) x 2 + the third assistant turn.
    expect(partial.messages).toHaveLength(6);
    expect((error as MaxStepsExceededError).message).toContain('"mathy" used all 3 steps');
    expect(model.callCount).toBe(3);
  });

  it("validates a structured answer against outputSchema and retries once with the problems", async () => {
    const schema = z.object({ total: z.number(), explanation: z.string().min(3) });
    const agent = defineAgent({ name: "structured", instructions: "Add and explain.", tools: [add], outputSchema: schema, maxSteps: 4 });
    const model = scriptedModel().reply("5").answer({ total: 5, explanation: "2 plus 3" });
    const result = await run(createAgentGraph(agent), { messages: [new HumanMessage("2+3")] }, { model });
    expect(result.state.structuredResponse).toEqual({ total: 5, explanation: "2 plus 3" });

    const wrong = scriptedModel().reply("5").answer({ total: "five" }).answer({ total: "still five" });
    const error = await run(createAgentGraph(agent), { messages: [new HumanMessage("2+3")] }, { model: wrong }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OutputValidationError);
    expect((error as Error).message).toContain("total");
    // The retry showed the model its first answer and what was wrong with it.
    const retry = wrong.requests[2]!.at(-1)!;
    expect(retry.role).toBe("user");
    expect(retry.content).toContain('{"total":"five"}');
    expect(retry.content).toContain("expected number");
    expect(wrong.callCount).toBe(3);
  });

  it("answers with one structured call when the agent has no tools", async () => {
    const agent = defineAgent({ name: "planner", instructions: "Plan.", tools: [], outputSchema: z.object({ steps: z.array(z.string()) }), maxSteps: 2 });
    const model = scriptedModel().answer({ steps: ["look it up", "write it down"] });
    const result = await run(createAgentGraph(agent), { messages: [new HumanMessage("plan a report")] }, { model });
    expect(result.state.structuredResponse).toEqual({ steps: ["look it up", "write it down"] });
    expect(model.callCount).toBe(1);
    expect(model.requests[0]).toEqual([
      { role: "system", content: "Plan." },
      { role: "user", content: "plan a report" },
    ]);
  });

  it("emits run, node, model and tool events in order", async () => {
    const model = scriptedModel().callTools([{ name: "add", args: { a: 1, b: 2 }, id: "x" }]).reply("3");
    const events = new RunEvents();
    const seen = collect(events);
    await run(createAgentGraph(agentWith()), { messages: [new HumanMessage("1+2")] }, { model, events });
    const types = seen.map((event) => event.type);
    expect(types[0]).toBe("run-start");
    expect(types.at(-1)).toBe("run-end");
    expect(types.filter((type) => type === "llm-call-end")).toHaveLength(2);
    // The scripted model has no price: one warning says so, once.
    expect(types.filter((type) => type === "warning")).toHaveLength(1);
    const order = types.filter((type) => type !== "node-start" && type !== "node-end" && type !== "warning");
    expect(order).toEqual(["run-start", "llm-call-start", "llm-call-end", "tool-call-start", "tool-call-end", "llm-call-start", "llm-call-end", "run-end"]);
    const toolStart = seen.find((event) => event.type === "tool-call-start");
    expect(toolStart).toMatchObject({ tool: "add", args: { a: 1, b: 2 }, agent: "mathy", node: "tools" });
    const nodes = seen.filter((event) => event.type === "node-start").map((event) => (event.type === "node-start" ? event.node : ""));
    expect(nodes).toEqual(["model", "tools", "model"]);
    expect(new Set(seen.map((event) => event.runId)).size).toBe(1);
  });

  it("derives the step limit from maxSteps instead of LangGraph's default of 25", async () => {
    const model = scriptedModel();
    for (let i = 0; i < 19; i++) model.callTools([{ name: "add", args: { a: i, b: 0 }, id: `s${i}` }]);
    model.reply("done");
    const result = await run(createAgentGraph(agentWith([add], 20)), { messages: [new HumanMessage("many steps")] }, { model });
    // 20 model calls and 19 tool rounds: 39 supersteps, beyond LangGraph's default limit.
    expect(result.state.steps).toBe(20);
  });

  it("rejects malformed definitions with an actionable DefinitionError", () => {
    expect(() => defineAgent({ name: "has space", instructions: "x", tools: [], maxSteps: 1 })).toThrow(/Agent name "has space" is invalid/);
    expect(() => defineAgent({ name: "a", instructions: " ", tools: [], maxSteps: 1 })).toThrow(/no instructions/);
    expect(() => defineAgent({ name: "a", instructions: "x", tools: [], maxSteps: 0 })).toThrow(/maxSteps 0/);
    expect(() => defineAgent({ name: "a", instructions: "x", tools: [add, add], maxSteps: 1 })).toThrow(/two tools named "add"/);
    expect(() => defineTool({ name: "bad name", description: "d", schema: z.object({}), run: () => "" })).toThrow(/Tool name "bad name" is invalid/);
    expect(() => defineTool({ name: "t", description: "", schema: z.object({}), run: () => "" })).toThrow(/no description/);
  });
});
