import { MemorySaver } from "@langchain/langgraph";
import { ConfigSchema, OfflineChatModel, resume, run } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./approval-gate.ts";

const model = () => new OfflineChatModel({});

describe("the approval-gate example on its sample, offline", () => {
  it("drafts a reply from the refund policy and, unasked, sends it without review", async () => {
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { status, state, usage } = await run(graph, example.input(example.sample!), { model: model() });
    expect(status).toBe("done");
    expect(state.status).toBe("sent without review");
    expect(state.final).toContain("duplicate charge");
    expect(state.final).toContain("[refund-policy#2]");
    expect(usage.modelCalls).toBe(1);
    expect(example.output(state).citations.map((citation) => citation.source)).toEqual(["refund-policy#2"]);
  });

  it("with sign-off, waits for a person; an edit replaces the reply, a rejection stops it", async () => {
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd(), options: { approveAnswer: true } });
    const checkpointer = new MemorySaver();
    const paused = await run(graph, example.input(example.sample!), { model: model(), checkpointer, threadId: "edit" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending[0]!.request).toMatchObject({ kind: "tool", tool: "sign-off", args: paused.state.draft, summary: expect.stringMatching(/^send this reply to the customer: A duplicate charge/) });
    const edited = await resume(graph, { checkpointer, threadId: "edit", model: model(), decisions: { decision: "edit", edit: "Sorry! Your duplicate charge is refunded within 5 business days. [refund-policy#2]", actor: "ana" } });
    expect(edited.state).toMatchObject({ status: "edited", note: "ana", final: "Sorry! Your duplicate charge is refunded within 5 business days. [refund-policy#2]" });

    await run(graph, example.input(example.sample!), { model: model(), checkpointer, threadId: "reject" });
    const rejected = await resume(graph, { checkpointer, threadId: "reject", model: model(), decisions: { decision: "reject", reason: "order 1042 was already refunded" } });
    expect(rejected.state.final).toBeUndefined();
    expect(example.output(rejected.state).answer).toBe("Not sent: the reviewer rejected the reply (order 1042 was already refunded).");
  });
});
