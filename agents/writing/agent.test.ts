import { HumanMessage } from "@langchain/core/messages";
import { createAgentGraph, extractCitations, run } from "conclave";
import { describe, expect, it } from "vitest";
import { createWritingAgent } from "./agent.ts";

describe("the writing agent", () => {
  it("drafts only from the findings, citing each one it uses (offline model)", async () => {
    const prompt = [
      "Question: How long is the Panama Canal and when did it open?",
      "",
      "Findings:",
      "[panama-canal#1] The Panama Canal is about 82 kilometres long.",
      "[panama-canal#2] The canal opened on 15 August 1914.",
      "[honeybees#1] Honeybees live in colonies.",
    ].join("\n");
    const { state } = await run(createAgentGraph(createWritingAgent()), { messages: [new HumanMessage(prompt)] });
    const draft = state.messages.at(-1)!.text;
    expect(draft).toContain("82 kilometres long. [panama-canal#1]");
    expect(draft).toContain("15 August 1914. [panama-canal#2]");
    expect(draft).not.toContain("Honeybees");
    for (const citation of extractCitations(draft)) expect(prompt).toContain(`[${citation.source}] ${citation.text}`);
  });

  it("has no tools: it writes from what it is given", () => {
    expect(createWritingAgent().tools).toEqual([]);
  });
});
