import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { END, MessagesValue, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { getEncoding } from "js-tiktoken";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { RunEvents, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { ContextWindowError, countTokens, fitToWindow, pruneByRelevance, slidingWindow, summarizeHierarchically } from "./context-window.ts";

/** A conversation of `turns` user/assistant pairs after a system prompt, each message about `words` words. */
function conversation(turns: number, words = 12): BaseMessage[] {
  const filler = (who: string, turn: number) => `${who} turn ${turn}: ${Array.from({ length: words }, (_, index) => `word${index}`).join(" ")}`;
  return [new SystemMessage("You are a careful assistant."), ...Array.from({ length: turns }, (_, turn) => [new HumanMessage(filler("user", turn)), new AIMessage(filler("assistant", turn))]).flat()];
}

const nonSystem = (window: BaseMessage[]) => window.filter((message) => !SystemMessage.isInstance(message));

describe("countTokens", () => {
  it("counts texts exactly as tiktoken does", () => {
    // Values from OpenAI's "How to count tokens with tiktoken" for cl100k_base.
    expect(countTokens("antidisestablishmentarianism")).toBe(6);
    expect(countTokens("2 + 2 = 4")).toBe(7);
    expect(countTokens("お誕生日おめでとう")).toBe(9);
    expect(countTokens("hello world")).toBe(2);
    const text = "The Larkfield tool library lends drills for three days; late returns cost 3 euros a day.";
    // Against js-tiktoken's full build, a separate entry point (building an encoder takes a moment: one per encoding).
    expect(countTokens(text)).toBe(getEncoding("cl100k_base").encode(text).length);
    expect(countTokens("tiktoken is great!", { encoding: "o200k_base" })).toBe(6);
    // Special-token text in user content is just text.
    expect(countTokens("<|endoftext|>")).toBeGreaterThan(1);
  });

  it("counts a conversation as OpenAI's chat format does", () => {
    // The cookbook's example conversation: 129 prompt tokens for gpt-4 / gpt-3.5-turbo (cl100k_base).
    const messages = [
      new SystemMessage("You are a helpful, pattern-following assistant that translates corporate jargon into plain English."),
      new SystemMessage({ name: "example_user", content: "New synergies will help drive top-line growth." }),
      new SystemMessage({ name: "example_assistant", content: "Things working well together will increase revenue." }),
      new SystemMessage({ name: "example_user", content: "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage." }),
      new SystemMessage({ name: "example_assistant", content: "Let's talk later when we're less busy about how to do better." }),
      new HumanMessage("This late pivot means we don't have time to boil the ocean for the client deliverable."),
    ];
    expect(countTokens(messages)).toBe(129);
    expect(countTokens([])).toBe(0);
  });
});

describe("slidingWindow", () => {
  it("keeps the system message in every window, overlaps neighbours and fits the budget", () => {
    const messages = conversation(10);
    const windows = slidingWindow(messages, { maxTokens: 150, overlap: 2 });
    expect(windows.length).toBeGreaterThan(2);
    for (const window of windows) {
      expect(window[0]).toBe(messages[0]);
      expect(countTokens(window)).toBeLessThanOrEqual(150);
    }
    for (let index = 1; index < windows.length; index++) {
      expect(nonSystem(windows[index]!).slice(0, 2)).toEqual(nonSystem(windows[index - 1]!).slice(-2));
    }
    // In order, nothing skipped: the windows, overlaps removed, are the conversation.
    const rebuilt = windows.flatMap((window, index) => nonSystem(window).slice(index === 0 ? 0 : 2));
    expect(rebuilt).toEqual(messages.slice(1));
  });

  it("keeps a tool call with its results, and refuses a message that cannot fit", () => {
    const call = new AIMessage({ content: "", tool_calls: [{ id: "c1", name: "add", args: { a: 1, b: 2 } }, { id: "c2", name: "add", args: { a: 3, b: 4 } }] });
    const messages = [new SystemMessage("Add."), new HumanMessage("1+2 and 3+4?"), call, new ToolMessage({ content: "3", tool_call_id: "c1" }), new ToolMessage({ content: "7", tool_call_id: "c2" }), new AIMessage("3 and 7."), new HumanMessage("Thanks!")];
    const windows = slidingWindow(messages, { maxTokens: 60, overlap: 1 });
    for (const window of windows) {
      expect(ToolMessage.isInstance(nonSystem(window)[0]!)).toBe(false);
      if (window.includes(call)) expect(window.filter((message) => ToolMessage.isInstance(message))).toHaveLength(2);
    }
    expect(() => slidingWindow([new SystemMessage("x"), new HumanMessage("word ".repeat(200))], { maxTokens: 100 })).toThrow(ContextWindowError);
    expect(() => slidingWindow(messages, { maxTokens: 0 })).toThrow(DefinitionError);
  });
});

describe("pruneByRelevance", () => {
  const passages = [
    { id: "weather", text: "The forecast promises light rain on Thursday and sun at the weekend." },
    { id: "key", text: "Maria Okafor holds the only key to the tool shed." },
    { id: "tank", text: "The rainwater tank by the shed holds 1,000 litres." },
    { id: "party", text: "The opening party is on Saturday 14 April at 11 am, with soup and a seed swap for everyone." },
    { id: "rota", text: "Watering is on Tuesdays and Fridays after 6 pm, and Jonas keeps the rota." },
  ];

  it("keeps the most relevant passages within the budget, best first", () => {
    const budget = 35;
    const pruned = pruneByRelevance(passages, "Who holds the key to the tool shed?", { budget });
    expect(pruned.kept[0]!.id).toBe("key");
    expect(pruned.tokens).toBeLessThanOrEqual(budget);
    expect(countTokens(pruned.context)).toBe(pruned.tokens);
    expect(pruned.context).toBe(pruned.kept.map((passage) => passage.text).join("\n\n"));
    expect(pruned.dropped.length).toBeGreaterThan(0);
    expect([...pruned.kept, ...pruned.dropped].map((passage) => passage.id).sort()).toEqual(passages.map((passage) => passage.id).sort());
  });

  it("ranks by a given relevance, skips what overflows and still takes a smaller one that fits", () => {
    const items = [
      { id: "best", text: "alpha ".repeat(20).trim(), relevance: 0.9 },
      { id: "long", text: "beta ".repeat(30).trim(), relevance: 0.8 },
      { id: "short", text: "gamma ".repeat(5).trim(), relevance: 0.5 },
      { id: "worst", text: "delta ".repeat(5).trim(), relevance: 0.1 },
    ];
    const render = (item: (typeof items)[number]) => `[${item.id}] ${item.text}`;
    const budget = countTokens(`${render(items[0]!)}\n${render(items[2]!)}`) + 2;
    const pruned = pruneByRelevance(items, "anything", { budget, relevance: (item) => item.relevance, render, separator: "\n" });
    // best fits; long would overflow beside it; short is smaller and fits; worst no longer does.
    expect(pruned.kept.map((item) => item.id)).toEqual(["best", "short"]);
    expect(pruned.dropped.map((item) => item.id)).toEqual(["long", "worst"]);
    expect(pruned.tokens).toBeLessThanOrEqual(budget);
    expect(pruneByRelevance(["a b c d e", "f g h i j"], "x", { budget: 1 }).kept).toEqual([]);
  });
});

describe("summarizeHierarchically", () => {
  /** A model whose summary of parts is "(a+b+…)": the result shows the tree's shape. */
  function echoSummarizer() {
    const model = scriptedModel();
    for (let call = 0; call < 20; call++) {
      model.respond((messages: BaseMessage[]) => new AIMessage(`(${[...messages.at(-1)!.text.matchAll(/^\[part-\d+\] (.*)$/gm)].map((match) => match[1]).join("+")}) [part-1]`));
    }
    return model;
  }

  it("summarises in a tree: ceil(n/fanIn) calls, then ceil of that over fanIn, down to one", async () => {
    const model = echoSummarizer();
    const chunks = "abcdefghij".split("");
    const { summary, levels } = await summarizeHierarchically(chunks, { model, fanIn: 3 });
    expect(levels.map((level) => level.length)).toEqual([4, 2, 1]);
    expect(model.callCount).toBe(4 + 2 + 1);
    // Markers are stripped from each summary before it is summarised again.
    expect(summary).toBe("(((a+b+c)+(d+e+f)+(g+h+i))+((j)))");
  });

  it("makes one call for texts that fit one group, asks with the focus, and refuses a fan-in below 2", async () => {
    const model = echoSummarizer();
    const { summary, levels } = await summarizeHierarchically(["x", "y"], { model, fanIn: 4, focus: "Who has the key?" });
    expect([summary, levels.length, model.callCount]).toEqual(["(x+y)", 1, 1]);
    expect(model.requests[0]![1]!.content).toContain("keeping everything that helps answer this question:\nWho has the key?\n");
    await expect(summarizeHierarchically(["x"], { model, fanIn: 1 })).rejects.toThrow(DefinitionError);
    await expect(summarizeHierarchically([], { model })).rejects.toThrow(/at least one text/);
  });
});

describe("fitToWindow", () => {
  const State = new StateSchema({ messages: MessagesValue, window: z.custom<unknown>().optional(), context: z.custom<BaseMessage[]>().optional() });
  const graphWith = (node: ReturnType<typeof fitToWindow>) => new StateGraph(State).addNode("fit", node).addEdge(START, "fit").addEdge("fit", END).compile();

  it("trims the conversation to the budget, keeping the system message and the latest turns", async () => {
    const messages = [...conversation(12), new HumanMessage("And the last question?")];
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const { state } = await run(graphWith(fitToWindow({ maxTokens: 200, record: "window" })), { messages }, { events });
    expect(countTokens(state.messages)).toBeLessThanOrEqual(200);
    expect(state.messages[0]!.text).toBe("You are a careful assistant.");
    expect(state.messages.at(-1)!.text).toBe("And the last question?");
    expect(HumanMessage.isInstance(state.messages[1]!)).toBe(true);
    const kept = state.messages.length - 1;
    expect(state.window).toEqual({ tokensBefore: countTokens(messages), tokensAfter: countTokens(state.messages), dropped: messages.length - 1 - kept, summarized: false });
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "fit-to-window", reason: expect.stringContaining(`dropped the ${messages.length - 1 - kept} oldest messages`) });
    expect(seen.filter((event) => event.type === "node-start").map((event) => (event as { node: string }).node)).toEqual(["fit-to-window"]);
  });

  it("summarises what it drops into one message, within the budget, focused on the latest question", async () => {
    const model = scriptedModel();
    for (let call = 0; call < 10; call++) model.reply("Maria Okafor holds the shed key. [part-2]");
    const messages = [...conversation(12), new HumanMessage("Who holds the shed key?")];
    const { state } = await run(graphWith(fitToWindow({ maxTokens: 220, summarize: { fanIn: 4, maxTokens: 60 }, record: "window" })), { messages }, { model });
    expect(countTokens(state.messages)).toBeLessThanOrEqual(220);
    expect(state.messages[1]!.text).toBe("Summary of the earlier conversation:\n[conversation-summary] Maria Okafor holds the shed key.");
    expect(state.messages.at(-1)!.text).toBe("Who holds the shed key?");
    expect(state.window).toMatchObject({ summarized: true });
    expect(model.requests[0]![1]!.content).toContain("helps answer this question:\nWho holds the shed key?\n");
  });

  it("leaves a fitting conversation alone, and can write the fitted copy elsewhere", async () => {
    const short = conversation(1);
    const unchanged = await run(graphWith(fitToWindow({ maxTokens: 1_000 })), { messages: short });
    expect(unchanged.state.messages.map((message) => message.text)).toEqual(short.map((message) => message.text));
    const long = [...conversation(12), new HumanMessage("Last?")];
    const copied = await run(graphWith(fitToWindow({ maxTokens: 120, to: "context" })), { messages: long });
    expect(copied.state.messages).toHaveLength(long.length);
    expect(countTokens(copied.state.context!)).toBeLessThanOrEqual(120);
  });

  it("fails clearly when the latest turn alone is over the budget", async () => {
    const messages = [new SystemMessage("Be brief."), new HumanMessage("word ".repeat(300))];
    await expect(run(graphWith(fitToWindow({ maxTokens: 100 })), { messages })).rejects.toThrow(/latest user turn does not fit in the 100 tokens left/);
    expect(() => fitToWindow({ maxTokens: 100, summarize: { maxTokens: 100 } })).toThrow(DefinitionError);
  });
});
