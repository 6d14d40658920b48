import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { TaskOutput } from "../types.ts";
import { matchesSchema, parseJsonFrom } from "./schema.ts";

const context = { seed: 1 };
const output = (text: string, raw: unknown = text): TaskOutput => ({ output: raw, text, usage: { modelCalls: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0 });
const sample = { id: "s1", input: "q" };
const Answer = z.object({ city: z.string(), population: z.number().int().positive(), tags: z.array(z.string()).optional() });

describe("parseJsonFrom", () => {
  it("reads plain JSON, a fenced block and JSON inside prose", () => {
    expect(parseJsonFrom('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(parseJsonFrom('Here you go:\n```json\n{"a": [1, 2]}\n```\nDone.')).toEqual({ value: { a: [1, 2] } });
    expect(parseJsonFrom('The result is {"a": 2} as asked.')).toEqual({ value: { a: 2 } });
    expect(parseJsonFrom("[1, 2] are the ids")).toEqual({ value: [1, 2] });
    expect(parseJsonFrom("no json {here")).toBeUndefined();
  });
});

describe("matchesSchema", () => {
  it("passes JSON text that fits", () => {
    expect(matchesSchema(Answer).score({ sample, output: output('```json\n{"city":"Oslo","population":709000}\n```') }, context)).toEqual({ score: 1, reason: "The answer matches the schema." });
  });

  it("lists zod's issues with their paths", () => {
    const result = matchesSchema(Answer).score({ sample, output: output('{"city":"Oslo","population":-5,"tags":["a",3]}') }, context);
    expect(result).toMatchObject({ score: 0 });
    expect(result.reason).toMatch(/^The answer does not match the schema: population: .*; tags\[1\]: Invalid input: expected string, received number\.$/);
    expect(result.details?.issues).toHaveLength(2);
  });

  it("validates the raw output when it is an object, or a picked value", () => {
    expect(matchesSchema(Answer).score({ sample, output: output("Oslo has 709,000 people.", { city: "Oslo", population: 709000 }) }, context)).toMatchObject({ score: 1 });
    expect(matchesSchema(Answer).score({ sample, output: output("{}", { city: "Oslo" }) }, context)).toMatchObject({ score: 0, reason: "The answer does not match the schema: population: Invalid input: expected number, received undefined." });
    const picked = matchesSchema(Answer, { pick: (out) => (out.output as { structuredResponse: unknown }).structuredResponse });
    expect(picked.score({ sample, output: output("", { messages: [], structuredResponse: { city: "Oslo", population: 1 } }) }, context)).toMatchObject({ score: 1 });
  });

  it("fails when the text holds no JSON", () => {
    expect(matchesSchema(Answer).score({ sample, output: output("Oslo, about 709k people") }, context)).toEqual({ score: 0, reason: 'The answer holds no JSON: "Oslo, about 709k people".' });
  });
});
