import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, expectTypeOf, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, resume, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { createParallelGraph, ParallelBranchError, QuorumNotMetError } from "./parallel.ts";

/** Resolves after `ms`, or rejects as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision").map(({ by, next, reason }) => ({ by, next, reason }));
  return { events, decisions };
}

const fails = (message: string) => async () => {
  await sleep(5);
  throw new Error(message);
};

describe("parallel fan-out / merge", () => {
  it("runs the branches concurrently: three 200 ms branches overlap in time", async () => {
    const nap = (label: string) => async (input: string, { signal }: { signal: AbortSignal }) => {
      await sleep(200, signal);
      return `${label}:${input}`;
    };
    const graph = createParallelGraph({ branches: { a: nap("a"), b: nap("b"), c: nap("c") }, merge: (values) => [values.a, values.b, values.c].join(" ") });
    const { state } = await run(graph, { input: "x" });
    expect(state.output).toBe("a:x b:x c:x");
    // No wall-clock bound (flaky under load); every window is open at the moment the last branch starts: they ran at the same time.
    const latestStart = Math.max(...state.outcomes.map((outcome) => outcome.startedAt));
    const earliestEnd = Math.min(...state.outcomes.map((outcome) => outcome.endedAt));
    expect(latestStart).toBeLessThan(earliestEnd);
    expect(state.outcomes.every((outcome) => outcome.status === "ok" && outcome.durationMs >= 190)).toBe(true);
  });

  it("reports a branch past its timeout as timed out, aborting its signal (and cutting off one that ignores it)", async () => {
    let sawAbort = false;
    const graph = createParallelGraph({
      branches: {
        quick: async () => "done",
        polite: async (_input: string, { signal }: { signal: AbortSignal }) => {
          signal.addEventListener("abort", () => (sawAbort = true));
          await sleep(5_000, signal);
          return "too late";
        },
        // Ignores its signal: the deadline still ends it.
        stubborn: async () => {
          await sleep(5_000);
          return "too late";
        },
      },
      timeoutMs: 100,
      policy: "collect-errors",
      merge: (values, { errors }) => ({ values, timedOut: errors.filter((error) => error.status === "timeout").map((error) => error.branch) }),
    });
    const { events, decisions } = recorder();
    const started = Date.now();
    const { state } = await run(graph, { input: "x" }, { events });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(state.output).toEqual({ values: { quick: "done" }, timedOut: ["polite", "stubborn"] });
    expect(sawAbort).toBe(true);
    expect(state.outcomes.find((outcome) => outcome.branch === "polite")).toMatchObject({ status: "timeout", error: "timed out after 100 ms" });
    expect(decisions()).toEqual([{ by: "parallel", next: "merge", reason: "1/3 branches succeeded (polite: timed out; stubborn: timed out); policy collect-errors" }]);
  });

  it("fail-fast: the first error fails the run and cancels the branches still running", async () => {
    let cancelled = false;
    const graph = createParallelGraph({
      branches: {
        broken: fails("the index is missing"),
        slow: async (_input: string, { signal }: { signal: AbortSignal }) => {
          signal.addEventListener("abort", () => (cancelled = true));
          await sleep(3_000, signal);
          return 1;
        },
      },
      policy: "fail-fast",
      merge: (values) => values,
    });
    const started = Date.now();
    const error = await run(graph, { input: "x" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ParallelBranchError);
    expect((error as ParallelBranchError).message).toMatch(/^Branch "broken" failed: the index is missing\. The policy is "fail-fast"/);
    expect((error as ParallelBranchError).details).toEqual({ branch: "broken", status: "error" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cancelled).toBe(true);
  });

  it("resumes a failed fan-out without re-running the branches that finished", async () => {
    const calls = { done: 0, flaky: 0 };
    const graph = createParallelGraph({
      branches: {
        done: () => (calls.done++, "kept"),
        flaky: async () => {
          calls.flaky++;
          await sleep(20);
          if (calls.flaky === 1) throw new Error("first try fails");
          return "second try";
        },
      },
      policy: "fail-fast",
      merge: (values) => values,
    });
    const checkpointer = new MemorySaver();
    await expect(run(graph, { input: "x" }, { checkpointer, threadId: "fan-1" })).rejects.toBeInstanceOf(ParallelBranchError);
    const { state } = await resume(graph, { checkpointer, threadId: "fan-1" });
    expect(state.output).toEqual({ done: "kept", flaky: "second try" });
    expect(calls).toEqual({ done: 1, flaky: 2 });
  });

  it("collect-errors: merges the successes and lists the errors", async () => {
    const graph = createParallelGraph({
      branches: { words: (text: string) => text.split(/\s+/).length, broken: fails("no sentiment model"), chars: (text: string) => text.length },
      policy: "collect-errors",
      merge: (values, { errors, input }) => {
        // The input type comes from the branches' parameters, the values' types from their results.
        expectTypeOf(input).toEqualTypeOf<string>();
        expectTypeOf(values.words).toEqualTypeOf<number | undefined>();
        return { ...values, input, errors: errors.map(({ branch, status, error }) => ({ branch, status, error })) };
      },
    });
    const { state } = await run(graph, { input: "one two three" });
    expect(state.output).toEqual({ words: 3, chars: 13, input: "one two three", errors: [{ branch: "broken", status: "error", error: "no sentiment model" }] });
  });

  it("quorum: passes with n successes and fails with fewer", async () => {
    const build = (failing: number) =>
      createParallelGraph({
        branches: Object.fromEntries(["a", "b", "c"].map((name, index) => [name, index < failing ? fails(`${name} broke`) : () => name])),
        policy: { quorum: 2 },
        merge: (values) => Object.values(values).join(""),
      });
    const { events, decisions } = recorder();
    const { state } = await run(build(1), { input: null }, { events });
    expect(state.output).toBe("bc");
    expect(decisions()).toEqual([{ by: "parallel", next: "merge", reason: "2/3 branches succeeded (a: a broke); quorum 2 met" }]);

    const failed = recorder();
    const error = await run(build(2), { input: null }, { events: failed.events }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuorumNotMetError);
    expect((error as QuorumNotMetError).message).toBe("Only 1 of 3 branches succeeded; the quorum is 2. Failures: a: a broke; b: b broke. Fix the failing branches, raise timeoutMs, or lower the quorum.");
    expect(failed.decisions()).toEqual([{ by: "parallel", next: "fail", reason: "1/3 branches succeeded (a: a broke; b: b broke); quorum 2 not met" }]);
  });

  it("rejects bad options at build time", () => {
    const merge = () => null;
    expect(() => createParallelGraph({ branches: {}, merge })).toThrow(/at least one branch/);
    expect(() => createParallelGraph({ branches: { merge: () => 1 }, merge })).toThrow(/"merge" is taken/);
    expect(() => createParallelGraph({ branches: { output: () => 1 }, merge })).toThrow(/"output" is taken/);
    expect(() => createParallelGraph({ branches: { a: () => 1 }, policy: { quorum: 2 }, merge })).toThrow(DefinitionError);
    expect(() => createParallelGraph({ branches: { a: () => 1 }, policy: { quorum: 2 }, merge })).toThrow(/could never be met/);
    expect(() => createParallelGraph({ branches: { a: () => 1 }, timeoutMs: -5, merge })).toThrow(/timeoutMs/);
    expect(() => createParallelGraph({ branches: { a: () => 1 }, policy: "best-effort" as never, merge })).toThrow(/policy/);
  });
});
