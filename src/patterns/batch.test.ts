import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver, interrupt } from "@langchain/langgraph";
import { describe, expect, it, vi } from "vitest";
import { dlqCommand } from "../cli/commands/dlq.ts";
import { DefinitionError, ProviderError } from "../errors.ts";
import { BudgetExceededError, RunEvents, createAgentGraph, defineAgent, resume, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { createBatchGraph } from "./batch-graph.ts";
import { scheduleBatch } from "./batch-schedule.ts";
import type { BatchScheduleEvent } from "./batch-schedule.ts";
import { replayBatchItems, runBatch } from "./batch.ts";
import type { BatchProgress } from "./batch.ts";
import { scriptedModel } from "../testing/index.ts";

const range = (count: number) => Array.from({ length: count }, (_, index) => index);

function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), "conclave-batch-"));
}

async function cli(argv: string[], stateDir: string) {
  let stdout = "";
  let stderr = "";
  const code = await dlqCommand(argv, { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), env: { CONCLAVE_STATE_DIR: stateDir }, cwd: stateDir }, new AbortController().signal);
  return { code, stdout, stderr };
}

describe("runBatch", () => {
  it("never has more than `concurrency` chunks in flight, and uses all of them", async () => {
    let inFlight = 0;
    let most = 0;
    const report = await runBatch({
      items: range(60),
      chunkSize: 3,
      concurrency: 4,
      // Items within a chunk run one after another, so items in flight = chunks in flight.
      process: async (item: number) => {
        most = Math.max(most, ++inFlight);
        await sleep(1 + (item % 4));
        inFlight--;
        return item * 2;
      },
    });
    expect(most).toBe(4);
    expect(report.maxInFlight).toBe(4);
    expect(report).toMatchObject({ status: "done", total: 60, succeeded: 60, failed: 0, skipped: 0, chunks: 20 });
    // Results are aggregated in item order whatever order the chunks finished in.
    expect(report.aggregate).toEqual(range(60).map((item) => item * 2));
  });

  it("keeps failed items in a real SQLite dead-letter queue as batch-items, and the report's counts add up", async () => {
    const stateDir = tempStateDir();
    const deadLetters = new DeadLetterQueue({ path: join(stateDir, "dlq.sqlite") });
    const progress: BatchProgress[] = [];
    const items = range(25).map((id) => ({ id: `ticket-${id}`, text: id % 7 === 3 ? "" : `Ticket ${id}` }));
    const report = await runBatch({
      name: "ticket-triage",
      items,
      chunkSize: 4,
      concurrency: 3,
      process: (ticket) => {
        if (!ticket.text) throw new Error(`${ticket.id} has no text to triage`);
        if (ticket.id === "ticket-20") throw new ProviderError("PROVIDER_UNAVAILABLE", "The provider is down; retry later.");
        return ticket.text.length;
      },
      aggregate: (lengths, failures) => ({ characters: lengths.reduce((sum, length) => sum + length, 0), failedIds: failures.map((failure) => failure.item.id) }),
      onProgress: (update) => progress.push(update),
      deadLetters,
    });
    const failedIds = ["ticket-3", "ticket-10", "ticket-17", "ticket-20", "ticket-24"];
    expect(report).toMatchObject({ name: "ticket-triage", total: 25, succeeded: 20, failed: 5, skipped: 0, chunks: 7 });
    expect(report.succeeded + report.failed + report.skipped).toBe(report.total);
    expect(report.aggregate.failedIds).toEqual(failedIds);
    expect(report.durationMs).toBeGreaterThan(0);
    expect(report.throughputPerSecond).toBeGreaterThan(0);

    // Progress once per chunk, counts only growing, ending at the total.
    expect(progress).toHaveLength(7);
    expect(progress.map((update) => update.done)).toEqual([...progress.map((update) => update.done)].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ done: 25, total: 25, succeeded: 20, failed: 5, chunksDone: 7, chunks: 7 });

    const letters = deadLetters.list("dead");
    expect(letters.map((letter) => (letter.input as { id: string }).id).sort()).toEqual([...failedIds].sort());
    const byId = new Map(letters.map((letter) => [(letter.input as { id: string }).id, letter]));
    expect(byId.get("ticket-3")).toMatchObject({ kind: "batch-item", graph: "ticket-triage", input: { id: "ticket-3", text: "" }, error: { code: "BATCH_ITEM_FAILED", message: "ticket-3 has no text to triage" }, attempts: 1, traceId: report.batchId, options: { batchId: report.batchId, index: 3, chunk: 0 } });
    // A ConclaveError keeps its own code and category.
    expect(byId.get("ticket-20")!.error).toEqual({ code: "PROVIDER_UNAVAILABLE", message: "The provider is down; retry later.", category: "provider" });
    expect(report.failures.map((failure) => failure.deadLetterId)).toEqual(failedIds.map((id) => byId.get(id)!.id));
    deadLetters.close();

    // `conclave dlq list / show` show them as batch items with their input, and replay points back to the batch.
    const listed = await cli(["list"], stateDir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${byId.get("ticket-3")!.id}  dead      `);
    expect(listed.stdout).toContain(`ticket-triage (batch-item)  BATCH_ITEM_FAILED  {"id":"ticket-3","text":""}`);
    expect(JSON.parse((await cli(["show", byId.get("ticket-20")!.id], stateDir)).stdout)).toMatchObject({ kind: "batch-item", input: { id: "ticket-20" }, error: { code: "PROVIDER_UNAVAILABLE" } });
    const replayed = await cli(["replay", byId.get("ticket-3")!.id], stateDir);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toContain("is a batch-item; replay it with the batch that produced it");
  });

  it("replays a batch's dead items: successes are marked replayed, failures stay dead", async () => {
    const deadLetters = new DeadLetterQueue({ path: join(tempStateDir(), "dlq.sqlite") });
    let down = true;
    const process = (item: number) => {
      if (down || item === 5) throw new Error(`item ${item} failed`);
      return item * 10;
    };
    await runBatch({ name: "numbers", items: [1, 5, 9], process, deadLetters });
    await runBatch({ name: "other-batch", items: [2], process, deadLetters });
    down = false;
    const report = await replayBatchItems({ deadLetters, name: "numbers", process });
    expect(report).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    expect(deadLetters.list("replayed").map((letter) => [letter.input, letter.result])).toEqual([[1, 10], [9, 90]]);
    // Item 5 failed again and the other batch's item was not touched: both still dead.
    expect(deadLetters.list("dead").map((letter) => [letter.graph, letter.input])).toEqual([["numbers", 5], ["other-batch", 2]]);
    deadLetters.close();
  });

  it("stops starting chunks when aborted: the rest count as skipped, not failed or dead-lettered", async () => {
    const controller = new AbortController();
    const deadLetters = { add: vi.fn() };
    const report = await runBatch({
      items: range(20),
      chunkSize: 2,
      concurrency: 1,
      process: async (item: number) => {
        if (item === 5) controller.abort();
        await sleep(1);
        if (controller.signal.aborted) throw new Error("aborted");
        return item;
      },
      deadLetters,
      signal: controller.signal,
    });
    expect(report).toMatchObject({ status: "aborted", total: 20, succeeded: 5, failed: 0, skipped: 15 });
    expect(deadLetters.add).not.toHaveBeenCalled();
  });

  it("rejects bad options with every problem named", async () => {
    const call = runBatch({ items: [1], chunkSize: 0, concurrency: 1.5, process: undefined as never });
    await expect(call).rejects.toThrow(DefinitionError);
    await expect(call).rejects.toThrow(/chunkSize[\s\S]*concurrency[\s\S]*process/);
  });
});

describe("createBatchGraph", () => {
  it("runs gather → chunk → process → aggregate under run(), each node observed, with progress events", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = createBatchGraph({
      name: "squares",
      chunkSize: 2,
      concurrency: 2,
      gather: (source) => (source ?? "").split(",").map(Number),
      process: (value: number) => {
        if (Number.isNaN(value)) throw new Error("not a number");
        return value * value;
      },
      aggregate: (squares) => squares.reduce((sum, square) => sum + square, 0),
    });
    const { state } = await run(graph, { source: "1,2,x,3,4" }, { events });
    expect(state.report).toMatchObject({ name: "squares", total: 5, succeeded: 4, failed: 1, chunks: 3, aggregate: 30 });
    expect(state.report!.failures).toEqual([{ index: 2, chunk: 1, item: Number.NaN, error: { code: "BATCH_ITEM_FAILED", message: "not a number" } }]);
    expect(seen.filter((event) => event.type === "node-start").map((event) => (event as { node: string }).node)).toEqual(["gather", "chunk", "process", "aggregate"]);
    expect(seen.filter((event) => event.type === "round-end").map((event) => (event as { round: number }).round)).toEqual([1, 2, 3]);
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "squares", next: "finish", reason: expect.stringMatching(/^4 of 5 items succeeded, 1 failed in \d+ ms/) });
  });
});

describe("batch graph: the run's own stops are not item failures", () => {
  it("stops with the budget error when the run's model calls are spent, and dead-letters nothing for it", async () => {
    const model = scriptedModel();
    for (let index = 0; index < 10; index++) model.reply(`summary ${index}`);
    const agent = createAgentGraph(defineAgent({ name: "summariser", instructions: "Summarise.", tools: [], maxSteps: 1, model }));
    const deadLetters = { add: vi.fn() };
    let calls = 0;
    const graph = createBatchGraph({
      name: "summaries",
      chunkSize: 2,
      concurrency: 1,
      deadLetters,
      process: async (item: number, { config }) => {
        calls++;
        const { messages } = await agent.invoke({ messages: [new HumanMessage(`item ${item}`)] }, config);
        return messages.at(-1)!.text;
      },
    });
    const failed = run(graph, { items: range(6) }, { budget: { maxModelCalls: 2 } });
    await expect(failed).rejects.toBeInstanceOf(BudgetExceededError);
    expect(deadLetters.add).not.toHaveBeenCalled();
    // The third call hit the budget; no item was started after it.
    expect(calls).toBe(3);
  });

  it("leaves the run interrupted with the approval pending when process calls interrupt(), then finishes on resume", async () => {
    const deadLetters = { add: vi.fn() };
    const graph = createBatchGraph({
      name: "refunds",
      chunkSize: 2,
      concurrency: 2,
      deadLetters,
      process: (amount: number) => {
        if (amount < 100) return amount;
        const decision = interrupt({ type: "conclave.approval", kind: "tool", tool: "refund", args: { amount }, summary: `refund $${amount}` }) as { decision: string };
        return decision.decision === "approve" ? amount : 0;
      },
    });
    const checkpointer = new MemorySaver();
    const paused = await run(graph, { items: [10, 20, 150, 30] }, { checkpointer, threadId: "refunds-1" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending).toEqual([{ interruptId: expect.any(String), request: expect.objectContaining({ kind: "tool", tool: "refund", summary: "refund $150" }) }]);
    expect(paused.state.report).toBeUndefined();
    expect(deadLetters.add).not.toHaveBeenCalled();
    const finished = await resume(graph, { checkpointer, threadId: "refunds-1", decisions: { decision: "approve", actor: "ana" } });
    expect(finished.status).toBe("done");
    expect(finished.state.report).toMatchObject({ status: "done", total: 4, succeeded: 4, failed: 0, aggregate: [10, 20, 150, 30] });
    expect(deadLetters.add).not.toHaveBeenCalled();
  });
});

describe("scheduleBatch", () => {
  it("never overlaps runs: ticks during a run are skipped and reported", async () => {
    const events: BatchScheduleEvent[] = [];
    let running = 0;
    let most = 0;
    let release: () => void = () => {};
    const schedule = scheduleBatch({
      every: 5,
      at: Date.now(),
      run: async (tick) => {
        most = Math.max(most, ++running);
        // The first run lasts until the test has seen two ticks skipped; later runs are quick.
        if (tick === 1) await new Promise<void>((resolve) => (release = resolve));
        running--;
        return tick;
      },
      onEvent: (event) => events.push(event),
    });
    await vi.waitFor(() => expect(schedule.stats().skipped).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    expect(schedule.stats()).toMatchObject({ runs: 1, running: true });
    release();
    await vi.waitFor(() => expect(schedule.stats().runs).toBeGreaterThanOrEqual(3), { timeout: 5_000 });
    await schedule.stop();
    const stats = schedule.stats();
    expect(most).toBe(1);
    expect(stats.ticks).toBe(stats.runs + stats.skipped);
    expect(stats.running).toBe(false);
    const skipped = events.find((event) => event.type === "tick-skipped");
    expect(skipped).toMatchObject({ runningTick: 1, reason: expect.stringMatching(/^run 1 is still in progress \(\d+ ms so far\); skipping tick \d+ rather than overlapping it$/) });
    // Starts and ends alternate: no run started before the previous one ended.
    const lifecycle = events.filter((event) => event.type === "run-start" || event.type === "run-end").map((event) => event.type);
    expect(lifecycle).toEqual(lifecycle.map((_, index) => (index % 2 === 0 ? "run-start" : "run-end")));
    expect(lifecycle.length % 2).toBe(0);
  });

  it("runs once at `at` without `every`, and reports a failed run without stopping", async () => {
    const events: BatchScheduleEvent[] = [];
    const schedule = scheduleBatch({ at: new Date(Date.now() + 5), run: () => { throw new Error("source unavailable"); }, onEvent: (event) => events.push(event) });
    await vi.waitFor(() => expect(events.map((event) => event.type)).toEqual(["run-start", "run-failed"]));
    await schedule.stop();
    expect(events[1]).toMatchObject({ tick: 1, error: "source unavailable" });
    expect(schedule.stats()).toMatchObject({ ticks: 1, runs: 1, failed: 1, skipped: 0, running: false });
  });

  it("needs `every` or `at`", () => {
    expect(() => scheduleBatch({ run: () => 1 })).toThrow(/give `every` \(ms between runs\), `at` \(when to run\), or both/);
  });
});
