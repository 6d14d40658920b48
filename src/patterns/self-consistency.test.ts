import { ChatOpenAI } from "@langchain/openai";
import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, defineAgent, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createSelfConsistencyGraph, withTemperature } from "./self-consistency.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

function sampler(replies: string[]) {
  const model = replies.reduce((scripted, reply) => scripted.reply(reply), scriptedModel());
  return { model, agent: defineAgent({ name: "sampler", instructions: "Think step by step.", tools: [], maxSteps: 1, model }) };
}

const ANSWERS = ["6 * 7 = 42. Answer: 42", "Answer: 41", "Six sevens are 42.", "#### 42", "Answer: 7"];

describe("self-consistency", () => {
  it("takes the majority of 5 sampled answers (42, 41, 42, 42, 7 → 42, agreement 0.6) in exactly 5 model calls", async () => {
    const { model, agent } = sampler(ANSWERS);
    const { events, seen } = recorder();
    const { state, usage } = await run(createSelfConsistencyGraph({ samples: 5, agent }), { question: "What is 6 * 7?" }, { events });
    expect(state.final).toMatchObject({ normalized: "42", method: "majority", agreement: 0.6, votes: { "42": 3, "41": 1, "7": 1 } });
    // The answer is a full sample's text, the first that gave 42.
    expect(normalizedOf(state.final!.answer)).toBe("42");
    expect(model.callCount).toBe(5);
    expect(usage.modelCalls).toBe(5);
    expect(state.samples.map((entry) => entry.modelCalls)).toEqual([1, 1, 1, 1, 1]);
    expect([...state.samples.map((entry) => entry.index)].sort()).toEqual([0, 1, 2, 3, 4]);
    const decision = seen.find((event) => event.type === "decision");
    expect(decision).toMatchObject({ by: "self-consistency", next: "finish" });
    expect(decision?.type === "decision" && decision.reason).toBe('"42" has 3 of 5 samples (agreement 0.60); others: "41" ×1, "7" ×1');
    // Every sample's call is labelled with its task, so traces tell them apart.
    const tasks = seen.flatMap((event) => (event.type === "llm-call-end" && event.task ? [event.task] : []));
    expect(tasks.sort()).toEqual(["sample-1", "sample-2", "sample-3", "sample-4", "sample-5"]);
  });

  it("varies the prompt per sample, in turn", async () => {
    const { model, agent } = sampler(["Answer: 12", "Answer: 12", "Answer: 12"]);
    const prompts = ["{question}", "Solve carefully, checking each step: {question}", "Estimate first, then compute exactly."];
    const { state } = await run(createSelfConsistencyGraph({ samples: 3, agent, prompts }), { question: "What is 3 * 4?" });
    const sent = model.requests.map((request) => request.at(-1)!.content).sort();
    expect(sent).toEqual(["Estimate first, then compute exactly.\n\nWhat is 3 * 4?", "Solve carefully, checking each step: What is 3 * 4?", "What is 3 * 4?"]);
    expect(state.samples.find((entry) => entry.index === 1)!.prompt).toBe("Solve carefully, checking each step: What is 3 * 4?");
    expect(state.final).toMatchObject({ normalized: "12", agreement: 1 });
  });

  it("picks the best sample by a scorer instead of the majority", async () => {
    const { agent } = sampler(ANSWERS);
    // A verifier that knows the answer: only 6 * 7 = 42 checks out... unless it prefers 7.
    const score = ({ normalized }: { normalized: string }) => (normalized === "7" ? 0.9 : 0.5);
    const { state } = await run(createSelfConsistencyGraph({ samples: 5, agent, score }), { question: "q" });
    expect(state.final).toMatchObject({ answer: "Answer: 7", normalized: "7", method: "score", agreement: 0.2 });
    expect(state.samples.every((entry) => entry.score !== undefined)).toBe(true);
  });

  it("counts samples the budget refused as abstentions", async () => {
    const { agent } = sampler(ANSWERS);
    const { state, usage } = await run(createSelfConsistencyGraph({ samples: 5, agent }), { question: "q" }, { budget: { maxModelCalls: 3 } });
    expect(usage.modelCalls).toBe(3);
    expect(state.samples.filter((entry) => entry.error === "budget")).toHaveLength(2);
    // Agreement stays a share of all N samples asked for.
    expect(state.final!.agreement).toBeLessThanOrEqual(0.6);
  });

  it("samples at the temperature asked for, on models that have one", () => {
    const model = new ChatOpenAI({ model: "m", apiKey: "k", maxRetries: 0, temperature: 0 });
    const sampled = withTemperature(model, 0.8) as ChatOpenAI;
    expect(sampled).toBeInstanceOf(ChatOpenAI);
    expect([sampled.temperature, sampled.model, model.temperature]).toEqual([0.8, "m", 0]);
    expect(withTemperature(scriptedModel(), 0.8)).toBeUndefined();
  });

  it("warns when the model cannot take the temperature", async () => {
    const { agent } = sampler(["Answer: 1", "Answer: 1"]);
    const { events, seen } = recorder();
    await run(createSelfConsistencyGraph({ samples: 2, agent, temperature: 0.7 }), { question: "q" }, { events });
    const warnings = seen.filter((event) => event.type === "warning" && event.message.includes("temperature"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining("has no temperature setting") });
  });

  it("rejects options it cannot run", () => {
    expect(() => createSelfConsistencyGraph({ samples: 0 })).toThrow(DefinitionError);
    expect(() => createSelfConsistencyGraph({ samples: 3, prompts: [] })).toThrow(/prompts/);
    expect(() => createSelfConsistencyGraph({ samples: 3, agent: {} as never })).toThrow(/agent: must be an agent/);
  });
});

function normalizedOf(text: string): string {
  return /42/.test(text) ? "42" : text;
}
