import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { RunEvents, compileGraph, defineGraph, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createAbTest } from "./ab-test.ts";
import { createFeedbackStore } from "./feedback.ts";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const prompts = { A: "Answer briefly.", B: "Answer briefly and cite your source." };

describe("A/B test", () => {
  it("always gives the same key the same arm, and splits experiments independently", () => {
    const test = createAbTest({ name: "tone", arms: prompts, split: { A: 0.5, B: 0.5 } });
    const again = createAbTest({ name: "tone", arms: prompts, split: { A: 0.5, B: 0.5 } });
    const keys = Array.from({ length: 200 }, (_, index) => `user-${index}`);
    const arms = keys.map((key) => test.armFor(key).arm);
    expect(keys.map((key) => test.armFor(key).arm)).toEqual(arms);
    expect(keys.map((key) => again.armFor(key).arm)).toEqual(arms);
    const other = createAbTest({ name: "length", arms: prompts, split: { A: 0.5, B: 0.5 } });
    const agreement = keys.filter((key) => other.armFor(key).arm === test.armFor(key).arm).length / keys.length;
    expect(agreement).toBeGreaterThan(0.35);
    expect(agreement).toBeLessThan(0.65);
  });

  it.each([
    [{ A: 0.5, B: 0.5 }],
    [{ A: 0.2, B: 0.8 }],
    [{ A: 0.1, B: 0.3, C: 0.6 }],
  ])("splits 10,000 keys within 2 points of the shares %j", (split) => {
    const arms = Object.fromEntries(Object.keys(split).map((arm) => [arm, `prompt ${arm}`]));
    const test = createAbTest({ arms, split });
    const counts: Record<string, number> = {};
    const buckets: number[] = [];
    for (let index = 0; index < 10_000; index++) {
      const { arm, bucket } = test.armFor(`user-${index}@example.com`);
      buckets.push(bucket);
      counts[arm] = (counts[arm] ?? 0) + 1;
    }
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(1);
    for (const [arm, share] of Object.entries(split)) expect(Math.abs(counts[arm]! / 10_000 - share)).toBeLessThanOrEqual(0.02);
  });

  it("runs the assigned arm's prompt, scores the answer and aggregates outcomes per arm", async () => {
    const model = scriptedModel();
    const questions = Array.from({ length: 12 }, (_, index) => `Question ${index}?`);
    const test = createAbTest({ name: "cite", arms: prompts, split: { A: 0.5, B: 0.5 }, outcome: (answer) => (answer.includes("[") ? 1 : 0) });
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const assigned = questions.map((question) => test.armFor(question).arm);
    for (const arm of assigned) model.reply(arm === "B" ? "Paris [geo-1]" : "Paris");

    for (const question of questions) {
      const { state } = await run(test.graph, { input: question }, { model, events });
      expect(state).toMatchObject({ input: question, key: question, arm: test.armFor(question).arm, score: state.arm === "B" ? 1 : 0 });
    }
    // Each arm's system prompt went to the model with the question.
    model.requests.forEach((request, index) => expect(request).toEqual([{ role: "system", content: prompts[assigned[index] as "A" | "B"] }, { role: "user", content: questions[index] }]));
    const countA = assigned.filter((arm) => arm === "A").length;
    expect(countA).toBeGreaterThan(0);
    expect(countA).toBeLessThan(12);
    const results = test.results();
    expect(results.arms).toEqual([
      { arm: "A", share: 0.5, count: countA, keys: countA, mean: 0, ci: [0, 0] },
      { arm: "B", share: 0.5, count: 12 - countA, keys: 12 - countA, mean: 1, ci: [1, 1] },
    ]);
    expect(results.comparisons).toEqual([{ baseline: "A", arm: "B", difference: 1, ci: [1, 1], verdict: "better" }]);
    // The choice is a decision event, and the arm's model call is labelled with the arm.
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "cite", next: assigned[0], reason: expect.stringMatching(/^key "Question 0\?" hashes to 0\.\d{3}, in arm [AB]'s share \(A \[0\.00, 0\.50\), B \[0\.50, 1\.00\)\)$/) });
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ agent: `cite/${assigned[0]}` });
  });

  it("records outcomes known later against the key's arm, in a SQLite store, and compares the arms", () => {
    const folder = mkdtempSync(join(tmpdir(), "conclave-ab-"));
    folders.push(folder);
    const store = createFeedbackStore({ path: join(folder, "ab.sqlite") });
    const test = createAbTest({ name: "checkout", arms: { control: "v1", variant: "v2" }, split: { control: 0.5, variant: 0.5 }, key: (input) => input.split(":")[0]!, store });
    for (let index = 0; index < 400; index++) {
      const key = `user-${index}`;
      // The variant converts 60% of its users, control 30%.
      test.record(key, test.armFor(key).arm === "variant" ? Number(index % 10 < 6) : Number(index % 10 < 3));
    }
    store.close();
    const reopened = createFeedbackStore({ path: join(folder, "ab.sqlite") });
    const results = createAbTest({ name: "checkout", arms: { control: "v1", variant: "v2" }, split: { control: 0.5, variant: 0.5 }, store: reopened }).results();
    reopened.close();
    expect(results.arms.map((arm) => arm.count).reduce((sum, count) => sum + count, 0)).toBe(400);
    const [control, variant] = results.arms;
    expect(control!.mean).toBeGreaterThan(0.2);
    expect(control!.mean).toBeLessThan(0.4);
    expect(variant!.mean).toBeGreaterThan(0.5);
    const comparison = results.comparisons[0]!;
    expect(comparison).toMatchObject({ baseline: "control", arm: "variant", verdict: "better" });
    expect(comparison.difference).toBeCloseTo(variant!.mean - control!.mean, 10);
    expect(comparison.ci[0]).toBeGreaterThan(0);
  });

  it("says when there is not enough data, and finds no difference between equal arms", () => {
    const test = createAbTest({ arms: prompts, split: { A: 0.5, B: 0.5 } });
    expect(test.results().comparisons[0]).toMatchObject({ verdict: "not enough data", difference: 0 });
    for (let index = 0; index < 200; index++) test.record(`k${index}`, index % 2);
    expect(test.results().comparisons[0]!.verdict).toBe("no significant difference");
  });

  it("counts each key once: recording the same outcomes 100 times per key does not make a difference significant", () => {
    const arms = { A: "v1", B: "v2" };
    const keysOf = (arm: string) => Array.from({ length: 200 }, (_, index) => `user-${index}`).filter((key) => createAbTest({ name: "repeat", arms, split: { A: 0.5, B: 0.5 } }).armFor(key).arm === arm).slice(0, 4);
    // Four users per arm; B's convert more often, but four users cannot show it.
    const outcomes = new Map([...keysOf("A").map((key, index): [string, number] => [key, Number(index === 0)]), ...keysOf("B").map((key, index): [string, number] => [key, Number(index !== 0)])]);
    const once = createAbTest({ name: "repeat", arms, split: { A: 0.5, B: 0.5 } });
    for (const [key, outcome] of outcomes) once.record(key, outcome);
    const repeated = createAbTest({ name: "repeat", arms, split: { A: 0.5, B: 0.5 } });
    for (let time = 0; time < 100; time++) for (const [key, outcome] of outcomes) repeated.record(key, outcome);

    const single = once.results();
    expect(single.comparisons[0]).toMatchObject({ difference: 0.5, verdict: "no significant difference" });
    const many = repeated.results();
    // The same keys with the same per-key means: the same interval and verdict, only more outcomes counted.
    expect(many.comparisons).toEqual(single.comparisons);
    expect(many.arms.map(({ count, keys, mean, ci }) => ({ count, keys, mean, ci }))).toEqual(single.arms.map(({ count, keys, mean, ci }) => ({ count: count * 100, keys, mean, ci })));
    expect(many.arms.map((arm) => arm.keys)).toEqual([4, 4]);
  });

  it("runs compiled graphs and message-building functions as arms", async () => {
    const Echo = new StateSchema({ text: z.string(), reply: z.string().optional() });
    const echo = compileGraph(
      defineGraph({
        name: "echo",
        description: "echoes",
        build: () => new StateGraph(Echo).addNode("echo", (state: typeof Echo.State) => ({ reply: `echo: ${state.text}` })).addEdge(START, "echo").addEdge("echo", END).compile(),
        input: (task) => ({ text: task }),
        output: (state) => ({ answer: state.reply ?? "", citations: [] }),
      }),
    );
    const model = scriptedModel().reply("from the prompt");
    const test = createAbTest({ arms: { graph: echo, prompt: (input) => [new SystemMessage("Be terse."), new HumanMessage(`Q: ${input}`)] }, split: { graph: 0.5, prompt: 0.5 }, model });
    const byArm = (arm: string) => Array.from({ length: 50 }, (_, index) => `key-${index}`).find((key) => test.armFor(key).arm === arm)!;
    const fromGraph = await run(test.graph, { input: "hello", key: byArm("graph") });
    expect(fromGraph.state).toMatchObject({ arm: "graph", output: "echo: hello" });
    const fromPrompt = await run(test.graph, { input: "hello", key: byArm("prompt") });
    expect(fromPrompt.state).toMatchObject({ arm: "prompt", output: "from the prompt" });
    expect(model.requests[0]).toEqual([{ role: "system", content: "Be terse." }, { role: "user", content: "Q: hello" }]);
  });

  it("refuses splits that do not match the arms or do not sum to 1", () => {
    expect(() => createAbTest({ arms: prompts, split: { A: 0.5, B: 0.6 } })).toThrow(/sum to 1/);
    expect(() => createAbTest({ arms: prompts, split: { A: 1 } })).toThrow(/every arm/);
    expect(() => createAbTest({ arms: { A: "x" }, split: { A: 1 } })).toThrow(/at least two arms/);
    expect(() => createAbTest({ arms: { A: "x", "B C": "y" }, split: { A: 0.5, "B C": 0.5 } })).toThrow(DefinitionError);
    const bare = new StateGraph(new StateSchema({ x: z.string() })).addNode("n", () => ({})).addEdge(START, "n").compile();
    expect(() => createAbTest({ arms: { A: "x", B: bare }, split: { A: 0.5, B: 0.5 } })).toThrow(/compileGraph/);
  });
});
