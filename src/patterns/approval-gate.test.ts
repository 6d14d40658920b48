import { Command, END, MemorySaver, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { ApprovalDecisionError, RunEvents, resume, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { approvalGate } from "./approval-gate.ts";

const Refund = z.object({ customer: z.string(), amount: z.number().positive() });
const State = new StateSchema({
  refund: Refund,
  status: z.enum(["pending", "approved", "edited", "refused"]).default("pending"),
  note: z.string().optional(),
  sent: z.boolean().default(false),
});
type S = typeof State.State;

function refundGraph(options: { when?: (state: S) => boolean } = {}) {
  const gate = approvalGate({
    name: "refund-review",
    summarize: (state: S) => `refund $${state.refund.amount} to ${state.refund.customer}`,
    proposal: (state: S) => state.refund,
    editSchema: Refund,
    ...(options.when ? { when: options.when } : {}),
    onApprove: (_state: S, { actor }) => ({ status: "approved" as const, note: `approved by ${actor}` }),
    onEdit: (_state: S, { edit, actor }) => ({ refund: edit as z.infer<typeof Refund>, status: "edited" as const, note: `edited by ${actor}` }),
    onReject: (_state: S, { reason }) => ({ status: "refused" as const, note: reason }),
  });
  return new StateGraph(State)
    .addNode("review", gate)
    .addNode("send", (state: S) => ({ sent: state.status !== "refused" }))
    .addEdge(START, "review")
    .addEdge("review", "send")
    .addEdge("send", END)
    .compile();
}

const input = { refund: { customer: "ana", amount: 120 } };

describe("approval gate", () => {
  it("pauses the run with the gate's summary and proposal as a Conclave approval", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const paused = await run(refundGraph(), input, { checkpointer: new MemorySaver(), threadId: "t", events });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending).toEqual([{ interruptId: expect.any(String), request: { type: "conclave.approval", kind: "tool", tool: "refund-review", args: { customer: "ana", amount: 120 }, summary: "refund $120 to ana" } }]);
    expect(paused.state.sent).toBe(false);
    expect(seen.find((event) => event.type === "approval-request")).toMatchObject({ kind: "tool", tool: "refund-review", summary: "refund $120 to ana" });
  });

  it.each([
    ["approve", { decision: "approve", actor: "ben" }, { status: "approved", note: "approved by ben", refund: input.refund, sent: true }],
    ["edit", { decision: "edit", edit: { customer: "ana", amount: 80 }, actor: "ben" }, { status: "edited", note: "edited by ben", refund: { customer: "ana", amount: 80 }, sent: true }],
    ["reject", { decision: "reject", reason: "outside the 30-day window", actor: "ben" }, { status: "refused", note: "outside the 30-day window", refund: input.refund, sent: false }],
  ] as const)("on resume, %s changes the state as its handler says", async (_name, decision, expected) => {
    const graph = refundGraph();
    const checkpointer = new MemorySaver();
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    await run(graph, input, { checkpointer, threadId: "t" });
    const done = await resume(graph, { checkpointer, threadId: "t", decisions: decision, events });
    expect(done.status).toBe("done");
    expect(done.state).toMatchObject(expected);
    expect(seen.find((event) => event.type === "approval-decision")).toMatchObject({ tool: "refund-review", actor: "ben" });
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "refund-review", next: `${decision.decision === "approve" ? "approved" : decision.decision === "edit" ? "edited" : "rejected"}` });
  });

  it("refuses an edit that does not match editSchema, naming what it replaces", async () => {
    const graph = refundGraph();
    const checkpointer = new MemorySaver();
    await run(graph, input, { checkpointer, threadId: "t" });
    await expect(resume(graph, { checkpointer, threadId: "t", decisions: { decision: "edit", edit: { customer: "ana", amount: -5 } } })).rejects.toThrow(ApprovalDecisionError);
  });

  it("passes the state on unchanged when `when` says no approval is needed", async () => {
    const { status, state } = await run(refundGraph({ when: (state) => state.refund.amount > 500 }), input, { checkpointer: new MemorySaver() });
    expect(status).toBe("done");
    expect(state).toMatchObject({ status: "pending", sent: true });
  });

  it("lets a handler route with a Command, e.g. back to drafting on rejection", async () => {
    const Draft = new StateSchema({ draft: z.string(), drafts: z.number().default(0), final: z.string().optional() });
    type D = typeof Draft.State;
    const gate = approvalGate({
      summarize: (state: D) => `send: ${state.draft}`,
      onApprove: (state: D) => new Command({ update: { final: state.draft }, goto: END }),
      onEdit: (_state: D, { edit }) => new Command({ update: { final: String(edit) }, goto: END }),
      onReject: (_state: D, { reason }) => new Command({ update: { draft: `revised (${reason})` }, goto: "write" }),
    });
    const graph = new StateGraph(Draft)
      .addNode("write", (state: D) => ({ drafts: state.drafts + 1 }))
      .addNode("gate", gate, { ends: ["write", END] })
      .addEdge(START, "write")
      .addEdge("write", "gate")
      .compile();
    const checkpointer = new MemorySaver();
    await run(graph, { draft: "hello" }, { checkpointer, threadId: "d" });
    const again = await resume(graph, { checkpointer, threadId: "d", decisions: { decision: "reject", reason: "too short" } });
    expect(again.status).toBe("interrupted");
    expect(again.pending[0]!.request.summary).toBe("send: revised (too short)");
    const done = await resume(graph, { checkpointer, threadId: "d", decisions: { decision: "approve" } });
    expect(done.state).toMatchObject({ final: "revised (too short)", drafts: 2 });
  });

  it("refuses a gate without its handlers", () => {
    expect(() => approvalGate({ summarize: () => "x" } as never)).toThrow(DefinitionError);
    expect(() => approvalGate({ summarize: () => "x" } as never)).toThrow(/onReject[\s\S]*onEdit|onEdit[\s\S]*onReject/);
  });
});
