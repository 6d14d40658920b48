import { HumanMessage } from "@langchain/core/messages";
import { ConfigSchema, OfflineChatModel, RunEvents, countTokens, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example, sampleConversation } from "./context-window.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the context-window example on its sample, offline", () => {
  it("fits the long conversation into 300 tokens and still answers from its early turns", async () => {
    const input = example.input(example.sample!);
    const tokensBefore = countTokens([...sampleConversation(), new HumanMessage(example.sample!)]);
    expect(tokensBefore).toBeGreaterThan(800);
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const { state, usage } = await run(example.build(context), input, { model: new OfflineChatModel({}), events });

    // What the assistant was sent: the system prompt, a summary of the dropped turns, the latest turns — within budget.
    const sent = state.messages.slice(0, -1);
    expect(countTokens(sent)).toBeLessThanOrEqual(300);
    expect(state.window).toMatchObject({ tokensBefore, tokensAfter: countTokens(sent), summarized: true });
    expect(sent[0]!.text).toBe(sampleConversation()[0]!.text);
    expect(sent[1]!.text.startsWith("Summary of the earlier conversation:\n[conversation-summary] ")).toBe(true);
    expect(sent.at(-1)!.text).toBe(example.sample);

    // The facts were said early on, so only the summary can have kept them.
    const answer = example.output(state);
    expect(answer.answer).toContain("Maria Okafor");
    expect(answer.answer).toContain("Tuesdays and Fridays");
    expect(answer.citations.map((citation) => citation.source)).toEqual(["conversation-summary"]);

    // A tree of summaries, three texts per call, then the answer.
    const dropped = state.window!.dropped;
    let calls = 0;
    for (let level = dropped; level > 1; level = Math.ceil(level / 3)) calls += Math.ceil(level / 3);
    expect(usage.byAgent.summarizer?.modelCalls).toBe(calls);
    expect(usage.byAgent.assistant?.modelCalls).toBe(1);
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "fit-to-window", reason: expect.stringContaining(`dropped the ${dropped} oldest messages and summarised them`) });
  });

  it("sends a short conversation unchanged", async () => {
    const { state } = await run(example.build(context), { messages: [new HumanMessage("Hello!")] }, { model: new OfflineChatModel({}) });
    expect(state.window).toMatchObject({ dropped: 0, summarized: false });
    expect(state.messages[0]!.text).toBe("Hello!");
  });
});
