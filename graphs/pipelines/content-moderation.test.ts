import { AIMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { ConfigSchema, OfflineChatModel, RunEvents, resume, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createModerationPipeline, example, messagesFrom } from "./content-moderation.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

/** A reviewer that answers from the message it is shown (reviews run in parallel, so order is not fixed). */
function reviewer(answers: Record<string, { verdict: string; confidence: number; reason: string }>) {
  const model = scriptedModel();
  for (let index = 0; index < Object.keys(answers).length; index++) {
    model.respond((messages: BaseMessage[]) => {
      const id = /^\[(m\d+)\]/m.exec(messages.at(-1)!.text)![1]!;
      return new AIMessage({ content: "", tool_calls: [{ type: "tool_call", id: `review_${id}`, name: "final_answer", args: answers[id]! }] });
    });
  }
  return model;
}

describe("the content-moderation pipeline", () => {
  it("settles the sample offline by rules and classifier, holds the rest for people, and audits every decision", async () => {
    const { events, seen } = recorder();
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { status, state } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });
    expect(status).toBe("done");
    expect(state.results.map((result) => `${result.messageId}:${result.verdict}:${result.stage}`)).toEqual([
      "m1:allow:classifier",
      "m2:block:rules",
      "m3:block:rules",
      "m4:allow:classifier",
      "m5:block:classifier",
      "m6:needs-review:human-review",
      "m7:needs-review:human-review",
    ]);
    // The audit trail: every message passed the rules; each later stage recorded the messages it looked at, with reasons.
    const trail = (id: string) => state.decisions.filter((entry) => entry.messageId === id).map((entry) => `${entry.stage}:${entry.outcome}`);
    expect(trail("m2")).toEqual(["rules:block"]);
    expect(trail("m5")).toEqual(["rules:uncertain", "classifier:block"]);
    expect(trail("m7")).toEqual(["rules:uncertain", "classifier:uncertain", "model-review:uncertain", "human-review:held"]);
    expect(state.decisions.every((entry) => entry.reason.length > 0 && entry.at > 0)).toBe(true);
    expect(state.decisions.find((entry) => entry.messageId === "m3")!.reason).toBe('rule "threat" matched "I will find you and hurt you"');
    // …and every one of them is a decision event too (plus the escalation and the report).
    const decisionEvents = seen.filter((event) => event.type === "decision");
    expect(decisionEvents).toHaveLength(state.decisions.length + 2);
    const answer = example.output(state);
    expect(answer.answer.split("\n")[0]).toBe("7 messages: 2 allowed, 3 blocked, 2 held for human review (m6, m7).");
    expect(answer.details).toMatchObject({ needsReview: ["m6", "m7"] });
  });

  it("pauses for a person on what the model could not settle, and resumes with their decisions on the record", async () => {
    const model = reviewer({ m6: { verdict: "allow", confidence: 0.9, reason: "Criticism of an idea, not of a person." }, m7: { verdict: "unsure", confidence: 0.4, reason: "Rude, but maybe banter." }, m8: { verdict: "block", confidence: 0.6, reason: "Hostile." } });
    const graph = createModerationPipeline({ model });
    const checkpointer = new MemorySaver();
    const { events, seen } = recorder();
    const messages = messagesFrom(JSON.stringify(["Thanks!", "I will hurt you.", "x", "y", "z", "Nice try, but this idea is stupid.", "Shut up, nobody asked you.", "You are a pathetic loser."]));
    const paused = await run(graph, { messages }, { model, checkpointer, events, threadId: "moderation-1", approveAnswer: true });

    expect(paused.status).toBe("interrupted");
    expect(paused.pending.map((approval) => approval.request.answer)).toEqual(["block", "block"]);
    const summaries = paused.pending.map((approval) => approval.request.summary);
    expect(summaries[0]).toMatch(/^moderate m7: "Shut up, nobody asked you\." — proposed block \(classifier 0\.51\)\. Approve to block, reject to allow/);
    expect(summaries[1]).toMatch(/^moderate m8: "You are a pathetic loser\." — proposed block/);
    // The model settled m6 with confidence; nobody is asked about it.
    expect(paused.state.decisions.filter((entry) => entry.messageId === "m6").at(-1)).toMatchObject({ stage: "model-review", outcome: "allow", score: 0.9 });

    const [m7, m8] = paused.pending.map((approval) => approval.interruptId);
    const done = await resume(graph, { model, checkpointer, events, threadId: "moderation-1", approveAnswer: true, decisions: { [m7!]: { decision: "reject", reason: "banter between friends", actor: "ana" }, [m8!]: { decision: "edit", edit: "block", actor: "ben" } } });
    expect(done.status).toBe("done");
    expect(done.state.results.find((result) => result.messageId === "m7")).toMatchObject({ verdict: "allow", stage: "human-review", reason: "ana rejected the proposed block: banter between friends" });
    expect(done.state.results.find((result) => result.messageId === "m8")).toMatchObject({ verdict: "block", stage: "human-review", reason: "ben set the verdict to block" });
    expect(done.state.decisions.filter((entry) => entry.stage === "human-review").map((entry) => [entry.messageId, entry.outcome, entry.actor])).toEqual(
      expect.arrayContaining([["m7", "allow", "ana"], ["m8", "block", "ben"]]),
    );
    // The model was not asked again on resume, and the approvals are events the audit log records.
    expect(model.requests).toHaveLength(3);
    expect(seen.filter((event) => event.type === "approval-decision").map((event) => event.type === "approval-decision" && [event.decision, event.actor])).toEqual([["rejected", "ana"], ["edited", "ben"]]);
  });

  it("refuses an edit that is not a verdict, saying what to send", async () => {
    const model = reviewer({ m1: { verdict: "unsure", confidence: 0.2, reason: "?" } });
    const graph = createModerationPipeline({ model, humanReview: "always" });
    const checkpointer = new MemorySaver();
    const paused = await run(graph, { messages: [{ id: "m1", text: "That is a stupid plan." }] }, { model, checkpointer, threadId: "moderation-2" });
    expect(paused.status).toBe("interrupted");
    await expect(resume(graph, { model, checkpointer, threadId: "moderation-2", decisions: { decision: "edit", edit: "maybe" } })).rejects.toThrow(/must be "allow" or "block"/);
  });

  it("reads a task as a JSON list of messages, or as one message", () => {
    expect(messagesFrom('[{"text":"hi","author":"a"},"yo"]')).toEqual([{ id: "m1", text: "hi", author: "a" }, { id: "m2", text: "yo" }]);
    expect(messagesFrom("just one message")).toEqual([{ id: "m1", text: "just one message" }]);
    expect(() => messagesFrom("[not json")).toThrow(/does not parse/);
    expect(() => createModerationPipeline({ allowBelow: 0.9, blockAt: 0.5 })).toThrow(/allowBelow must not be above blockAt/);
  });
});
