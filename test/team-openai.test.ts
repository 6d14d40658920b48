import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createResearchTeam } from "../graphs/research-team.ts";
import { ConfigSchema, createChatModel, run } from "../src/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

describe("the research team through ChatOpenAI", () => {
  it("runs every role over HTTP with requests the hosted API would accept", async () => {
    server.setFallback({ kind: "respond", handler: teamModel });
    const { model, info } = createChatModel({ provider: "openai", name: "fake-model", baseUrl: server.url, apiKey: "k", timeoutMs: 10_000, maxRetries: 0 });
    const graph = createResearchTeam({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-team-openai-")) });
    const { state, usage } = await run(graph, { task: "When did Apollo 11 land on the Moon?" }, { model, modelInfo: info });

    expect(state.terminationReason).toBe("approved");
    expect(state.final?.answer).toBe("On 20 July 1969, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]");
    for (const request of server.requests) expect(request.violations, `request ${request.index} (${roleOf(request)})`).toEqual([]);
    const roles = new Set(server.requests.map(roleOf));
    expect([...roles].sort()).toEqual(["planner", "research", "synthesizer", "verification", "writing"]);
    // Structured answers are forced tool calls; every tool call was answered by a tool message with its id.
    const structured = server.requests.filter((request) => request.body.tool_choice);
    expect(structured.map((request) => request.body.tool_choice.function.name)).toEqual(["final_answer", "final_answer"]);
    expect(usage.modelCalls).toBe(server.requests.length);
  }, 30_000);
});
