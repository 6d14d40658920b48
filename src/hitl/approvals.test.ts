import { HumanMessage } from "@langchain/core/messages";
import { Annotation, END, MemorySaver, Send, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { RunEvents, createAgentGraph, defineAgent, defineTool, resume, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { MemoryEffectLedger } from "../persistence/effects.ts";
import { scriptedModel } from "../testing/index.ts";

function sendMailTool(sent: string[]) {
  return defineTool({
    name: "send_mail",
    description: "Sends an email.",
    schema: z.object({ to: z.string(), body: z.string() }),
    requiresApproval: true,
    sideEffects: true,
    run: ({ to, body }) => {
      sent.push(`${to}: ${body}`);
      return `sent to ${to}`;
    },
  });
}

function counterTool(applied: string[]) {
  return defineTool({
    name: "bump",
    description: "Increments a counter somewhere else.",
    schema: z.object({ by: z.number() }),
    sideEffects: true,
    run: ({ by }, context) => {
      applied.push(`${by}:${context.idempotencyKey}`);
      return `bumped by ${by}`;
    },
  });
}

function collect(events: RunEvents): ConclaveEvent[] {
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return seen;
}

function mailer(sent: string[], applied: string[] = []) {
  const model = scriptedModel()
    .callTools([{ name: "bump", args: { by: 2 }, id: "c1" }, { name: "send_mail", args: { to: "ana@example.com", body: "hi" }, id: "c2" }])
    .reply("done");
  const graph = createAgentGraph(defineAgent({ name: "mailer", instructions: "Send mail.", tools: [counterTool(applied), sendMailTool(sent)], maxSteps: 4 }));
  return { model, graph };
}

describe("approvals of tool calls", () => {
  it("pauses before the tool runs, and runs it once when approved — the side effect beside it is not repeated", async () => {
    const sent: string[] = [];
    const applied: string[] = [];
    const { model, graph } = mailer(sent, applied);
    const checkpointer = new MemorySaver();
    const effects = new MemoryEffectLedger();
    const events = new RunEvents();
    const seen = collect(events);
    const paused = await run(graph, { messages: [new HumanMessage("mail ana")] }, { model, checkpointer, effects, events, threadId: "t-approve" });

    expect(paused.status).toBe("interrupted");
    expect(paused.pending).toHaveLength(1);
    expect(paused.pending[0]!.request).toMatchObject({ kind: "tool", tool: "send_mail", args: { to: "ana@example.com", body: "hi" } });
    expect(sent).toEqual([]);
    expect(applied).toHaveLength(1);
    expect(seen.find((event) => event.type === "run-end")).toMatchObject({ status: "interrupted" });
    expect(seen.filter((event) => event.type === "approval-request")).toHaveLength(1);

    const done = await resume(graph, { model, checkpointer, effects, events, threadId: "t-approve", decisions: { decision: "approve", actor: "ana" } });
    expect(done.status).toBe("done");
    expect(sent).toEqual(["ana@example.com: hi"]);
    // LangGraph re-ran the tools node; the completed side effect was answered from the ledger.
    expect(applied).toHaveLength(1);
    expect(done.state.messages.at(-1)?.text).toBe("done");
    expect(model.requests).toHaveLength(2);
    const decision = seen.find((event) => event.type === "approval-decision");
    expect(decision).toMatchObject({ decision: "approved", actor: "ana", tool: "send_mail", interruptId: paused.pending[0]!.interruptId });
    const bumps = seen.filter((event) => event.type === "tool-call-end" && event.tool === "bump");
    expect(bumps.map((event) => event.type === "tool-call-end" && event.deduplicated)).toEqual([undefined, true]);
    expect(bumps.every((event) => event.type === "tool-call-end" && event.sideEffects && event.idempotencyKey?.startsWith("effect:v1:"))).toBe(true);
  });

  it("runs the tool with edited arguments, checked against its schema", async () => {
    const sent: string[] = [];
    const { model, graph } = mailer(sent);
    const checkpointer = new MemorySaver();
    await run(graph, { messages: [new HumanMessage("mail ana")] }, { model, checkpointer, threadId: "t-edit" });
    await expect(resume(graph, { model, checkpointer, threadId: "t-edit", decisions: { decision: "edit", edit: { to: 42 } } })).resolves.toMatchObject({ status: "done" });
    // A bad edit becomes an error observation for the model; the tool did not run.
    expect(sent).toEqual([]);
    const { model: model2, graph: graph2 } = mailer(sent);
    await run(graph2, { messages: [new HumanMessage("mail ana")] }, { model: model2, checkpointer, threadId: "t-edit-2" });
    await resume(graph2, { model: model2, checkpointer, threadId: "t-edit-2", decisions: { decision: "edit", edit: { to: "bo@example.com", body: "hello" } } });
    expect(sent).toEqual(["bo@example.com: hello"]);
  });

  it("tells the model the call was rejected, and never runs it", async () => {
    const sent: string[] = [];
    const { model, graph } = mailer(sent);
    const checkpointer = new MemorySaver();
    await run(graph, { messages: [new HumanMessage("mail ana")] }, { model, checkpointer, threadId: "t-reject" });
    const done = await resume(graph, { model, checkpointer, threadId: "t-reject", decisions: { decision: "reject", reason: "not today", actor: "bo" } });
    expect(sent).toEqual([]);
    const observation = model.requests[1]!.find((message) => message.role === "tool" && message.toolCallId === "c2");
    expect(observation?.content).toContain("rejected");
    expect(observation?.content).toContain("not today");
    expect(done.status).toBe("done");
  });

  it("handles two approvals pending at once in parallel branches, decided one by one or together", async () => {
    const sent: string[] = [];
    const agentFor = (to: string) => {
      const model = scriptedModel().callTools([{ name: "send_mail", args: { to, body: "report" }, id: `c-${to}` }]).reply(`mailed ${to}`);
      return createAgentGraph(defineAgent({ name: `mailer-${to}`, instructions: "Send mail.", tools: [sendMailTool(sent)], model, maxSteps: 4 }));
    };
    const agents: Record<string, ReturnType<typeof agentFor>> = { ana: agentFor("ana"), bo: agentFor("bo") };
    const State = Annotation.Root({ done: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode("mail", async (task: { to: string }, config) => {
        const result = await agents[task.to]!.invoke({ messages: [new HumanMessage(`mail ${task.to}`)] }, config);
        return { done: [result.messages.at(-1)!.text] };
      })
      .addConditionalEdges(START, () => [new Send("mail", { to: "ana" }), new Send("mail", { to: "bo" })], ["mail"])
      .addEdge("mail", END)
      .compile({ checkpointer: new MemorySaver() });

    const paused = await run(graph, {}, { threadId: "t-two" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending.map((approval) => (approval.request.args as { to: string }).to).sort()).toEqual(["ana", "bo"]);
    const ana = paused.pending.find((approval) => (approval.request.args as { to: string }).to === "ana")!;
    const bo = paused.pending.find((approval) => (approval.request.args as { to: string }).to === "bo")!;

    await expect(resume(graph, { threadId: "t-two", decisions: { "no-such-id": { decision: "approve" } } })).rejects.toThrow(/No pending approval has id "no-such-id"/);
    const half = await resume(graph, { threadId: "t-two", decisions: { [ana.interruptId]: { decision: "approve" } } });
    expect(half.status).toBe("interrupted");
    expect(half.pending.map((approval) => approval.interruptId)).toEqual([bo.interruptId]);
    expect(sent).toEqual(["ana: report"]);

    const done = await resume(graph, { threadId: "t-two", decisions: { [bo.interruptId]: { decision: "reject", reason: "no" } } });
    expect(done.status).toBe("done");
    expect(sent).toEqual(["ana: report"]);
    expect(done.state.done.sort()).toEqual(["mailed ana", "mailed bo"]);
  });

  it("asks only for the calls the requiresApproval function picks", async () => {
    const paid: number[] = [];
    const pay = defineTool({
      name: "pay",
      description: "Pays an amount.",
      schema: z.object({ cents: z.number() }),
      requiresApproval: ({ cents }) => cents > 10_000,
      run: ({ cents }) => {
        paid.push(cents);
        return "paid";
      },
    });
    const model = scriptedModel().callTools([{ name: "pay", args: { cents: 500 }, id: "small" }, { name: "pay", args: { cents: 50_000 }, id: "large" }]).reply("ok");
    const graph = createAgentGraph(defineAgent({ name: "payer", instructions: "Pay.", tools: [pay], maxSteps: 3 }));
    const checkpointer = new MemorySaver();
    const paused = await run(graph, { messages: [new HumanMessage("pay")] }, { model, checkpointer, threadId: "t-pay" });
    expect(paused.pending.map((approval) => approval.request.args)).toEqual([{ cents: 50_000 }]);
    expect(paid).toEqual([500]);
    await resume(graph, { model, checkpointer, threadId: "t-pay", decisions: { decision: "approve" } });
    // Not a side-effecting tool: the small payment ran again when LangGraph re-ran the node. Mark such tools sideEffects.
    expect(paid.sort((a, b) => a - b)).toEqual([500, 500, 50_000]);
  });

  it("refuses to resume a paused run without decisions, or a thread that does not exist", async () => {
    const { model, graph } = mailer([]);
    const checkpointer = new MemorySaver();
    await run(graph, { messages: [new HumanMessage("mail ana")] }, { model, checkpointer, threadId: "t-wait" });
    await expect(resume(graph, { model, checkpointer, threadId: "t-wait" })).rejects.toThrow(/waiting for 1 approval/);
    await expect(resume(graph, { model, checkpointer, threadId: "nope" })).rejects.toThrow(/no checkpoints/);
  });
});

describe("approvals and side effects within one tools node", () => {
  it("two approval calls in one turn: the first approved, the second rejected — only the first runs, once", async () => {
    const sent: string[] = [];
    const model = scriptedModel()
      .callTools([{ name: "send_mail", args: { to: "ana", body: "x" }, id: "m1" }, { name: "send_mail", args: { to: "bo", body: "y" }, id: "m2" }])
      .reply("done");
    const graph = createAgentGraph(defineAgent({ name: "mailer", instructions: "Send mail.", tools: [sendMailTool(sent)], maxSteps: 3 }));
    const checkpointer = new MemorySaver();
    const first = await run(graph, { messages: [new HumanMessage("mail both")] }, { model, checkpointer, threadId: "t-two-in-one" });
    expect(first.pending.map((approval) => approval.request.callId)).toEqual(["m1"]);
    const second = await resume(graph, { model, checkpointer, threadId: "t-two-in-one", decisions: { decision: "approve" } });
    expect(second.pending.map((approval) => approval.request.callId)).toEqual(["m2"]);
    expect(sent).toEqual(["ana: x"]);
    const done = await resume(graph, { model, checkpointer, threadId: "t-two-in-one", decisions: { decision: "reject", reason: "no" } });
    expect(done.status).toBe("done");
    expect(sent).toEqual(["ana: x"]);
    const observations = model.requests[1]!.filter((message) => message.role === "tool").map((message) => message.content);
    expect(observations[0]).toBe("sent to ana");
    expect(observations[1]).toContain("rejected");
  });

  it("resume() without a ledger of its own still knows what the first run applied", async () => {
    const sent: string[] = [];
    const applied: string[] = [];
    const { model, graph } = mailer(sent, applied);
    const checkpointer = new MemorySaver();
    await run(graph, { messages: [new HumanMessage("mail ana")] }, { model, checkpointer, threadId: "t-default-ledger" });
    await resume(graph, { model, checkpointer, threadId: "t-default-ledger", decisions: { decision: "approve" } });
    expect(applied).toHaveLength(1);
    expect(sent).toHaveLength(1);
  });

  it("keys two calls of one side-effecting tool from a node of your own apart by their arguments", async () => {
    const applied: string[] = [];
    const bump = counterTool(applied);
    const State = Annotation.Root({ out: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode("twice", async (_state, config) => ({ out: [String(await bump.invoke({ by: 1 }, config)), String(await bump.invoke({ by: 5 }, config))] }))
      .addEdge(START, "twice")
      .addEdge("twice", END)
      .compile({ checkpointer: new MemorySaver() });
    const result = await run(graph, {}, { threadId: "t-own-node" });
    expect(result.state.out).toEqual(["bumped by 1", "bumped by 5"]);
    const keys = applied.map((line) => line.slice(line.indexOf(":") + 1));
    expect(new Set(keys).size).toBe(2);
    expect(keys.every((key) => key?.startsWith("effect:v1:"))).toBe(true);
  });

  it("does not take a call that threw for one cut off by a crash", async () => {
    let attempts = 0;
    const flaky = defineTool({
      name: "flaky",
      description: "Fails the first time.",
      schema: z.object({}),
      sideEffects: true,
      run: (_args, context) => {
        attempts += 1;
        if (attempts === 1) throw new Error("remote said no");
        return context.isRetryAfterCrash ? "retry-after-crash" : "fresh";
      },
    });
    const model = scriptedModel().callTools([{ name: "flaky", args: {}, id: "f1" }]).callTools([{ name: "flaky", args: {}, id: "f2" }]).reply("ok");
    const events = new RunEvents();
    const seen = collect(events);
    await run(createAgentGraph(defineAgent({ name: "f", instructions: "x", tools: [flaky], maxSteps: 4 })), { messages: [new HumanMessage("go")] }, { model, events, checkpointer: new MemorySaver(), threadId: "t-flaky" });
    const ends = seen.filter((event) => event.type === "tool-call-end");
    expect(ends.map((event) => event.type === "tool-call-end" && [event.sideEffects, Boolean(event.error)])).toEqual([[true, true], [true, false]]);
    expect(model.requests[2]!.at(-1)!.content).toBe("fresh");
  });
});
