import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ConfigSchema, createAgentGraph, defineTool, extractCitations, run } from "conclave";
import { z } from "zod";
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

  it("takes the research tools plus any user tool, under a step limit", () => {
    const tools = researchTools({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-research-")) });
    const extra = defineTool({ name: "lookup_price", description: "Looks up a price.", schema: z.object({ item: z.string() }), run: () => "1" });
    const agent = createResearchAgent({ tools: [...tools, extra], maxSteps: 4 });
    expect(agent.tools.map((tool) => tool.name)).toEqual(["calculator", "retrieve", "read_file", "lookup_price"]);
    expect(agent).toMatchObject({ name: "research", maxSteps: 4, kind: "conclave.agent" });
  });
});
