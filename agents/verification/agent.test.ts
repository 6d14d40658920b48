import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { ConfigSchema, createAgentGraph, run } from "conclave";
import { describe, expect, it } from "vitest";
import { standardTools } from "../../tools/index.ts";
import { ClaimVerdictSchema, createVerificationAgent } from "./agent.ts";

describe("the verification agent (offline model, real check_support)", () => {
  const { checkSupport } = standardTools({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-verify-")) });
  const graph = createAgentGraph(createVerificationAgent({ checkSupport }));
  const verdictOn = async (claim: string) => {
    const { state } = await run(graph, { messages: [new HumanMessage(claim)] });
    const toolCalls = state.messages.flatMap((message) => ("tool_calls" in message ? ((message as { tool_calls?: Array<{ name: string }> }).tool_calls ?? []) : []));
    expect(toolCalls.map((call) => call.name)).toContain("check_support");
    return ClaimVerdictSchema.parse(state.structuredResponse);
  };

  it("supports a claim its cited passage states", async () => {
    expect((await verdictOn("On 20 July 1969, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]")).verdict).toBe("supported");
  });

  it("flags an invented claim as unsupported, with a problem and a suggestion", async () => {
    const verdict = await verdictOn("Apollo 11 was powered by steam engines built in Peru. [apollo-11#1]");
    expect(verdict.verdict).toBe("unsupported");
    expect(verdict.problem).toMatch(/^The cited passage does not support it \(best support score 0\.\d\d\)\.$/);
    expect(verdict.suggestion).toBe("Remove the claim or support it with a finding.");
  });

  it("flags a claim that denies what its source states as contradicted", async () => {
    const verdict = await verdictOn("The Scottish scientist Alexander Fleming did not discover penicillin in September 1928. [penicillin#2]");
    expect(verdict.verdict).toBe("contradicted");
    expect(verdict.problem).toContain("denies what [penicillin#2] states");
  });

  it("flags a claim whose numbers differ from its source as contradicted", async () => {
    expect((await verdictOn("On 21 August 1970, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]")).verdict).toBe("contradicted");
  });
});
