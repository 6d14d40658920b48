import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ConfigSchema, createAgentGraph, extractCitations, run } from "conclave";
import { describe, expect, it } from "vitest";
import { researchTools } from "../../tools/index.ts";
import { createResearchAgent } from "./agent.ts";

describe("the research agent", () => {
  it("looks facts up with retrieve and cites only passages it saw (offline model)", async () => {
    const tools = researchTools({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-research-")) });
    const graph = createAgentGraph(createResearchAgent({ tools }));
    const { state } = await run(graph, { messages: [new HumanMessage("Who discovered penicillin?")] });
    const observed = state.messages.filter((message) => ToolMessage.isInstance(message)).map((message) => message.text).join("\n");
    const answer = state.messages.at(-1)!.text;
    expect(answer).toContain("Alexander Fleming");
    const cited = extractCitations(answer).map((citation) => citation.source);
    expect(cited.length).toBeGreaterThan(0);
    for (const source of cited) expect(observed).toContain(`[${source}]`);
  });

  it("has the research tools and a step limit", () => {
    const agent = createResearchAgent({ tools: [], maxSteps: 4 });
    expect(agent).toMatchObject({ name: "research", maxSteps: 4, kind: "conclave.agent" });
    expect(agent.instructions).toContain("Never invent a source id");
  });
});
