import { describe, expect, it } from "vitest";
import type { TaskOutput } from "../types.ts";
import { claimsOf, faithfulness, lexicalSupport } from "./faithfulness.ts";

const context = { seed: 1 };
const passages = [
  { id: "apollo-11#1", text: "Apollo 11 was the first crewed mission to land on the Moon. It landed on 20 July 1969." },
  { id: "apollo-11#2", text: "Neil Armstrong and Buzz Aldrin walked on the lunar surface while Michael Collins orbited above." },
];
const output = (text: string, context: TaskOutput["context"] = passages): TaskOutput => ({ output: text, text, context, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample = { id: "s1", input: "Tell me about Apollo 11." };

describe("faithfulness", () => {
  it("splits claims, dropping citation markers and sentences with nothing to check", () => {
    expect(claimsOf("Sure! Apollo 11 landed in 1969 [apollo-11#1]. Want more? Armstrong walked on the Moon.")).toEqual(["Apollo 11 landed in 1969.", "Armstrong walked on the Moon."]);
  });

  it("scores 1 when the context supports every claim", () => {
    const text = "Apollo 11 landed on the Moon on 20 July 1969 [apollo-11#1]. Armstrong and Aldrin walked on the lunar surface [apollo-11#2].";
    expect(faithfulness().score({ sample, output: output(text) }, context)).toEqual({ score: 1, reason: "All 2 claims are supported by the context.", details: { claims: 2, supported: 2, unsupported: [] } });
  });

  it("catches a planted claim the context does not hold", () => {
    const text = "Apollo 11 landed on the Moon in 1969. The crew planted a golden telescope on Mars.";
    const result = faithfulness().score({ sample, output: output(text) }, context);
    expect(result).toMatchObject({ score: 0.5, details: { unsupported: ["The crew planted a golden telescope on Mars."] } });
    expect(result.reason).toBe('1 of 2 claims are supported by the context; unsupported: "The crew planted a golden telescope on Mars.".');
  });

  it("catches a changed number even when every word matches", () => {
    const check = lexicalSupport("Apollo 11 landed on the Moon on 20 July 1968.", passages[0]!.text);
    expect(check.coverage).toBeGreaterThanOrEqual(0.7);
    expect(check.missingNumbers).toEqual(["1968"]);
    const result = faithfulness().score({ sample, output: output("Apollo 11 landed on the Moon on 20 July 1968.") }, context);
    expect(result).toMatchObject({ score: 0, details: { unsupported: ["Apollo 11 landed on the Moon on 20 July 1968."] } });
  });

  it("uses a custom support check, and finds every claim unsupported in an empty context", () => {
    const seen: string[] = [];
    const custom = faithfulness({ support: (claim, ctx) => (seen.push(`${claim}|${ctx.length}`), claim.includes("Moon")) });
    expect(custom.score({ sample, output: output("It went to the Moon. It was fast.") }, context)).toMatchObject({ score: 0.5 });
    expect(seen).toEqual(["It went to the Moon.|2", "It was fast.|2"]);
    expect(faithfulness().score({ sample, output: output("Apollo 11 landed in 1969.", []) }, context)).toMatchObject({ score: 0 });
  });

  it("scores an answer with no claims 1 and throws when the task reports no context", () => {
    expect(faithfulness().score({ sample, output: output("Sure! Anything else?") }, context)).toMatchObject({ score: 1, reason: "The answer makes no claims to check." });
    expect(() => faithfulness().score({ sample, output: { ...output("Apollo 11 landed."), context: undefined } }, context)).toThrow(/reported no context for sample "s1"/);
  });
});
