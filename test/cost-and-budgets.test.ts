import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { RunEvents, createAgentGraph, createChatModel, createDebateGraph, defineAgent, defineTool, run } from "../src/index.ts";
import type { ConclaveEvent } from "../src/index.ts";
import { DEFAULT_PRICE_TABLE, costOf, priceOf, priceTableFrom } from "../src/resilience/pricing.ts";
import { scriptedModel } from "../src/testing/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { runCli } from "./helpers/cli.ts";
import { teamModel } from "./helpers/team-model.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

function conclave(argv: string[], env: Record<string, string> = {}) {
  return runCli(argv, { env });
}

describe("prices", () => {
  it("finds exact and dated model names, and falls back to the default", () => {
    expect(priceOf("gpt-4o-mini")).toEqual({ price: { input: 0.15, output: 0.6 }, known: true });
    expect(priceOf("gpt-4o-mini-2024-07-18").price).toEqual({ input: 0.15, output: 0.6 });
    expect(priceOf("gpt-4o-2024-08-06").price).toEqual({ input: 2.5, output: 10 });
    expect(priceOf("llama-3.1-8b")).toEqual({ price: DEFAULT_PRICE_TABLE.default, known: false });
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 500_000 }, { input: 0.15, output: 0.6 })).toBeCloseTo(0.45, 10);
    expect(priceOf("llama-3.1-8b", priceTableFrom({ models: { "llama-3.1-8b": { input: 0.05, output: 0.08 } } }))).toEqual({ price: { input: 0.05, output: 0.08 }, known: true });
  });

  it("costs every call of a run, per agent, and warns once about an unpriced model", async () => {
    server.enqueue({ kind: "text", content: "a", usage: { prompt_tokens: 1000, completion_tokens: 500 } }, { kind: "text", content: "b", usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const graph = createAgentGraph(defineAgent({ name: "priced", instructions: "x", tools: [], maxSteps: 2 }));
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const priced = createChatModel({ provider: "openai", name: "gpt-4o-mini", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 });
    const first = await run(graph, { messages: [new HumanMessage("hi")] }, { model: priced.model, modelInfo: priced.info, events });
    expect(first.usage.costUsd).toBeCloseTo(0.00045, 12);
    expect(first.usage.byAgent.priced?.costUsd).toBeCloseTo(0.00045, 12);
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ costUsd: expect.closeTo(0.00045, 12) });
    expect(seen.filter((event) => event.type === "warning")).toHaveLength(0);

    const unknown = createChatModel({ provider: "openai", name: "mystery-model", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 });
    const second = await run(graph, { messages: [new HumanMessage("hi")] }, { model: unknown.model, modelInfo: unknown.info, events });
    expect(second.usage.costUsd).toBeCloseTo((1000 * 1 + 500 * 3) / 1e6, 12);
    const warnings = seen.filter((event): event is Extract<ConclaveEvent, { type: "warning" }> => event.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('No price is known for model "mystery-model"');
  });
});

describe("budgets end runs gracefully", () => {
  it("--max-cost stops the team against a priced model with a usable answer", async () => {
    server.setFallback({ kind: "respond", handler: (request) => ({ ...teamModel(request), usage: { prompt_tokens: 2000, completion_tokens: 200 } }) as never });
    const { code, stdout, stderr } = await conclave(["run", "--json", "--max-cost", "0.001", "When did Apollo 11 land on the Moon?"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "gpt-4o-mini" });
    expect(code, stderr).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; terminationReason: string; usage: { costUsd: number; modelCalls: number } };
    expect(output.terminationReason).toBe("budget");
    expect(output.answer).toContain("20 July 1969");
    // Each call costs $0.00042; calls in flight count, so the cap is passed by at most one call.
    expect(output.usage.costUsd).toBeLessThanOrEqual(0.001 + 0.00042);
    expect(stderr).toMatch(/maxCostUsd budget is spent/);
  });

  it("--max-tokens stops a run against a provider model with a usable answer", async () => {
    server.setFallback({ kind: "respond", handler: teamModel });
    const { code, stdout, stderr } = await conclave(["run", "--json", "--max-tokens", "200", "When did Apollo 11 land on the Moon?"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "gpt-4o-mini" });
    expect(code, stderr).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; terminationReason: string };
    expect(output.terminationReason).toBe("budget");
    expect(output.answer).toMatch(/Apollo|Moon|1969/);
    expect(stderr).toContain("the budget is tight; researching the task itself");
  });

  it("--max-tokens stops an offline run with the passages research had retrieved", async () => {
    const { code, stdout } = await conclave(["run", "--json", "--max-tokens", "200", "Who discovered penicillin?"]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; terminationReason: string; verified: boolean };
    expect(output.terminationReason).toBe("budget");
    expect(output.answer).toContain("Alexander Fleming discovered penicillin");
    expect(output.verified).toBe(false);
  });

  it("a wall-time cap refuses calls that would start after it", async () => {
    const slow = defineTool({ name: "slow", description: "Takes a while.", schema: z.object({}), run: () => new Promise((resolve) => setTimeout(() => resolve("done"), 60)) });
    const graph = createAgentGraph(defineAgent({ name: "timed", instructions: "x", tools: [slow], maxSteps: 3 }));
    const model = scriptedModel().callTools([{ name: "slow", args: {} }]).reply("never reached");
    const error = await run(graph, { messages: [new HumanMessage("go")] }, { model, budget: { maxWallTimeMs: 30 } }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/budget is spent: .* s used of 0\.0 s allowed \(maxWallTimeMs\)/);
    expect(model.callCount).toBe(1);
  });

  it("a wall-time cap cuts a hung model call short as a spent budget, not a provider failure", async () => {
    server.setFallback({ kind: "hang" });
    const { model } = createChatModel({ provider: "openai", name: "gpt-4o-mini", baseUrl: server.url, apiKey: "k", timeoutMs: 60_000, maxRetries: 0 });
    const graph = createAgentGraph(defineAgent({ name: "waiting", instructions: "x", tools: [], maxSteps: 2 }));
    const started = Date.now();
    const error = await run(graph, { messages: [new HumanMessage("hi")] }, { model, budget: { maxWallTimeMs: 300 } }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((error as { code?: string }).code).toBe("BUDGET_EXCEEDED");
    expect((error as Error).message).toContain("maxWallTimeMs");
  });

  it("a budget cap stops a debate mid-round, and the most agreed round decides", async () => {
    const models = [
      scriptedModel().reply("It is 42.").reply("Still 42."),
      scriptedModel().reply("It is 42.").reply("Still 42."),
      scriptedModel().reply("It is 40.").reply("Fine, 42."),
    ];
    const solvers = models.map((model, index) => defineAgent({ name: `s${index + 1}`, instructions: "Solve.", tools: [], maxSteps: 2, model }));
    const { state, usage } = await run(createDebateGraph({ solvers, maxRounds: 3 }), { question: "6 * 7?" }, { budget: { maxModelCalls: 4 } });
    expect(usage.modelCalls).toBe(4);
    expect(state.terminationReason).toBe("budget");
    expect(state.answers.filter((answer) => answer.round === 2 && answer.error === "budget")).toHaveLength(2);
    expect(state.final).toMatchObject({ normalized: "42", method: "majority" });
  });
});
