import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, resume, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { createSequentialGraph, StageFailedError } from "./sequential.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision").map(({ by, next, reason }) => ({ by, next, reason }));
  return { events, seen, decisions };
}

describe("sequential pipeline", () => {
  it("runs the stages in order, each on the previous output, and reports every transition", async () => {
    const graph = createSequentialGraph<string>({
      stages: [
        { name: "extract", run: ({ input }) => input.split("\n") },
        { name: "clean", run: ({ value }) => (value as string[]).map((line) => line.trim()).filter(Boolean) },
        { name: "count", run: ({ value, outputs, completed }) => ({ lines: (value as string[]).length, raw: (outputs.extract as string[]).length, after: [...completed] }) },
      ],
    });
    const { events, decisions, seen } = recorder();
    const { state } = await run(graph, { input: " a \n\n b " }, { events });
    expect(state.value).toEqual({ lines: 2, raw: 3, after: ["extract", "clean"] });
    expect(state.completed).toEqual(["extract", "clean", "count"]);
    expect(state.outputs.clean).toEqual(["a", "b"]);
    expect(decisions()).toEqual([
      { by: "sequential", next: "clean", reason: "stage extract done → clean" },
      { by: "sequential", next: "count", reason: "stage clean done → count" },
      { by: "sequential", next: "finish", reason: "stage count done → finish" },
    ]);
    expect(seen.filter((event) => event.type === "node-start").map((event) => (event as { node: string }).node)).toEqual(["extract", "clean", "count"]);
  });

  it("fails at the failed stage and resumes FROM it: earlier stages are not run again", async () => {
    const calls = { extract: 0, clean: 0, summarise: 0 };
    let failNext = true;
    const graph = createSequentialGraph<string>({
      stages: [
        { name: "extract", run: ({ input }) => (calls.extract++, input.toUpperCase()) },
        {
          name: "clean",
          run: ({ value }) => {
            calls.clean++;
            if (failNext) {
              failNext = false;
              throw new Error("the cleaning service is down");
            }
            return String(value).replace(/\s+/g, " ").trim();
          },
        },
        { name: "summarise", run: ({ value }) => (calls.summarise++, `${String(value).slice(0, 5)}…`) },
      ],
    });
    const checkpointer = new MemorySaver();
    const threadId = "pipeline-1";
    const failed = await run(graph, { input: "hello   big world" }, { checkpointer, threadId }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(StageFailedError);
    expect((failed as StageFailedError).message).toMatch(/^Stage "clean" \(2 of 3\) failed: the cleaning service is down\. .*resume/);
    expect((failed as StageFailedError).details).toEqual({ stage: "clean", index: 1 });
    expect(calls).toEqual({ extract: 1, clean: 1, summarise: 0 });

    const { events, decisions } = recorder();
    const { state } = await resume(graph, { threadId, checkpointer, events });
    expect(calls).toEqual({ extract: 1, clean: 2, summarise: 1 });
    expect(state.value).toBe("HELLO…");
    expect(state.completed).toEqual(["extract", "clean", "summarise"]);
    // Only the stages after the failure report transitions on resume.
    expect(decisions().map((decision) => decision.reason)).toEqual(["stage clean done → summarise", "stage summarise done → finish"]);
  });

  it("saves a checkpoint at every stage boundary", async () => {
    const graph = createSequentialGraph({ stages: ["a", "b", "c"].map((name) => ({ name, run: ({ value }: { value: unknown }) => `${String(value)}${name}` })) });
    const checkpointer = new MemorySaver();
    await run(graph, { input: "", value: "" }, { checkpointer, threadId: "t" });
    const history = [];
    for await (const snapshot of graph.getStateHistory({ configurable: { thread_id: "t" } })) history.push(snapshot);
    // Newest first: after c, after b, after a, the input, the start.
    expect(history.map((snapshot) => snapshot.values.completed ?? [])).toEqual([["a", "b", "c"], ["a", "b"], ["a"], [], []].map((list) => expect.arrayContaining(list)));
    expect(history.map((snapshot) => snapshot.next)).toEqual([[], ["c"], ["b"], ["a"], ["__start__"]]);
  });

  it("rejects a malformed pipeline at build time with what to fix", () => {
    expect(() => createSequentialGraph({ stages: [] })).toThrow(DefinitionError);
    expect(() => createSequentialGraph({ stages: [] })).toThrow(/at least one stage/);
    expect(() => createSequentialGraph({ stages: [{ name: "a", run: () => 1 }, { name: "a", run: () => 2 }] })).toThrow(/distinct/);
    expect(() => createSequentialGraph({ stages: [{ name: "no spaces", run: () => 1 }] })).toThrow(/letters, digits/);
    expect(() => createSequentialGraph({ stages: [{ name: "a", run: "nope" as never }] })).toThrow(/must be a function/);
    expect(() => createSequentialGraph({ stages: [{ name: "value", run: () => 1 }] })).toThrow(/name the pipeline's state/);
  });
});
