import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { MemorySaver, interrupt } from "@langchain/langgraph";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { BudgetExceededError, RunEvents, observeModelCall, resume, run, runContext } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { scriptedModel } from "../testing/index.ts";
import { EtlExtractError, createEtlGraph, rejectRecord } from "./etl.ts";
import type { EtlContext } from "./etl.ts";

interface Row {
  id: string;
  email: string;
  comment: string;
}

const ROWS = ["r1,ada@example.com,Great service", "r2,bad row", "r3,bob@example.com,BOOM", "r4,not-an-email,Fine", "r5,cy@example.com,Slow delivery", "r6,duplicate@example.com,Okay"];

/** A model that labels each comment from the request itself, since records are transformed in parallel. */
function sentimentModel(calls: number) {
  const model = scriptedModel();
  for (let index = 0; index < calls; index++) {
    model.respond((messages: BaseMessage[]) => {
      const text = messages.at(-1)!.text;
      if (text.includes("BOOM")) return new Error("The model refused the comment.");
      return new AIMessage(/great|okay|fine/i.test(text) ? "positive" : "negative");
    });
  }
  return model;
}

/** Asks the run's model for a sentiment label, through observeModelCall like every Conclave model call. */
async function label(comment: string, context: EtlContext): Promise<string> {
  const model = runContext(context.config).model!;
  const messages = [new HumanMessage(`Label the sentiment of this comment as positive or negative: ${comment}`)];
  const answer = await observeModelCall(context.config, { model: "sentiment", messageCount: 1 }, (signal) => model.invoke(messages, { ...context.config, ...(signal ? { signal } : {}) }));
  return answer.text;
}

function pipeline(deadLetters?: DeadLetterQueue, load = vi.fn((records: Array<{ index: number; record: Row & { sentiment: string } }>) => ({ rejected: records.filter((entry) => entry.record.id === "r6").map((entry) => ({ index: entry.index, reason: "duplicate key r6" })) }))) {
  const graph = createEtlGraph({
    name: "feedback",
    extract: function* (source) {
      for (const line of source!.split("\n")) {
        const [id, email, comment, ...rest] = line.split(",");
        if (comment === undefined || rest.length) yield rejectRecord(line, `expected 3 columns, got ${line.split(",").length}`);
        else yield { id: id!, email: email!, comment: comment! } satisfies Row;
      }
    },
    transform: async (row: Row, context) => ({ ...row, email: row.email.toLowerCase(), sentiment: await label(row.comment, context) }),
    validate: z.object({ id: z.string(), email: z.email(), comment: z.string(), sentiment: z.enum(["positive", "negative"]) }),
    load,
    ...(deadLetters ? { deadLetters } : {}),
  });
  return { graph, load };
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

describe("ETL graph", () => {
  it("moves good records through every stage; each bad one is reported with its stage and reason and stops nothing", async () => {
    const deadLetters = new DeadLetterQueue({ path: join(mkdtempSync(join(tmpdir(), "conclave-etl-")), "dlq.sqlite") });
    const { graph, load } = pipeline(deadLetters);
    const model = sentimentModel(5);
    const { events, seen } = recorder();
    const { state, usage, runId } = await run(graph, { source: ROWS.join("\n") }, { events, model });

    expect(state.loaded).toEqual([0, 4]);
    expect(state.counts).toEqual({
      extract: { in: 6, out: 5, failed: 1 },
      transform: { in: 5, out: 4, failed: 1 },
      validate: { in: 4, out: 3, failed: 1 },
      load: { in: 3, out: 2, failed: 1 },
    });
    expect(state.failures.map(({ index, stage, reason, code }) => ({ index, stage, reason, code })).sort((a, b) => a.index - b.index)).toEqual([
      { index: 1, stage: "extract", reason: "expected 3 columns, got 2", code: "ETL_EXTRACT_REJECTED" },
      { index: 2, stage: "transform", reason: "The model refused the comment.", code: "ETL_TRANSFORM_FAILED" },
      { index: 3, stage: "validate", reason: "email: Invalid email address", code: "ETL_VALIDATION_FAILED" },
      { index: 5, stage: "load", reason: "duplicate key r6", code: "ETL_LOAD_REJECTED" },
    ]);
    // The loader got the valid records once, transformed, in source order.
    expect(load).toHaveBeenCalledTimes(1);
    expect(load.mock.calls[0]![0]).toEqual([
      { index: 0, record: { id: "r1", email: "ada@example.com", comment: "Great service", sentiment: "positive" } },
      { index: 4, record: { id: "r5", email: "cy@example.com", comment: "Slow delivery", sentiment: "negative" } },
      { index: 5, record: { id: "r6", email: "duplicate@example.com", comment: "Okay", sentiment: "positive" } },
    ]);
    // One model call per extracted record, the failed one included, each counted in the run's usage.
    expect(model.requests).toHaveLength(5);
    expect(usage.modelCalls).toBe(5);

    // Each bad record is kept as a dead letter with its raw input and stage, and reported as it happens.
    const letters = deadLetters.list("dead");
    expect(letters.map((letter) => [letter.options.stage, letter.input]).sort()).toEqual([
      ["extract", "r2,bad row"],
      ["load", { id: "r6", email: "duplicate@example.com", comment: "Okay" }],
      ["transform", { id: "r3", email: "bob@example.com", comment: "BOOM" }],
      ["validate", { id: "r4", email: "not-an-email", comment: "Fine" }],
    ]);
    expect(letters.every((letter) => letter.kind === "batch-item" && letter.graph === "feedback" && letter.traceId === runId)).toBe(true);
    expect(state.failures.every((failure) => letters.some((letter) => letter.id === failure.deadLetterId))).toBe(true);
    const warnings = seen.filter((event) => event.type === "warning").map((event) => (event as { message: string }).message);
    expect(warnings).toContain("feedback: record 4 failed at validate: email: Invalid email address");
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "feedback", next: "finish", reason: "2 of 6 records loaded; 4 failed (extract 1, transform 1, validate 1, load 1)" });
    // Every stage is an observed node; transform ran once per extracted record.
    const started = seen.filter((event) => event.type === "node-start").map((event) => (event as { node: string }).node);
    expect(started.filter((node) => node === "transform")).toHaveLength(5);
    expect(started.filter((node) => node !== "transform")).toEqual(["extract", "validate", "load"]);
    deadLetters.close();
  });

  it("reports every record when the load fails as a whole, and the run still ends", async () => {
    const { graph } = pipeline(undefined, vi.fn(() => {
      throw new Error("warehouse unreachable");
    }));
    const { state } = await run(graph, { source: "r1,a@example.com,Great\nr2,b@example.com,Okay" }, { model: sentimentModel(2) });
    expect(state.loaded).toEqual([]);
    expect(state.counts.load).toEqual({ in: 2, out: 0, failed: 2 });
    expect(state.failures.map((failure) => [failure.index, failure.stage, failure.reason])).toEqual([[0, "load", "warehouse unreachable"], [1, "load", "warehouse unreachable"]]);
  });

  it("skips transform and load when nothing is extracted", async () => {
    const load = vi.fn();
    const graph = createEtlGraph({ extract: () => [], transform: (record: unknown) => record, load });
    const { state } = await run(graph, {});
    expect(state.counts).toEqual({ extract: { in: 0, out: 0, failed: 0 }, transform: { in: 0, out: 0, failed: 0 }, validate: { in: 0, out: 0, failed: 0 }, load: { in: 0, out: 0, failed: 0 } });
    expect(load).not.toHaveBeenCalled();
  });

  it("fails with an actionable error when the source cannot be read at all", async () => {
    const graph = createEtlGraph({ extract: (source) => { throw new Error(`ENOENT: no such file ${source}`); }, transform: (record: unknown) => record, load: () => {} });
    const failure = run(graph, { source: "missing.csv" });
    await expect(failure).rejects.toThrow(EtlExtractError);
    await expect(failure).rejects.toThrow('ETL "etl" could not extract from "missing.csv": ENOENT: no such file missing.csv. Check the source exists and is readable');
  });

  it("stops with the budget error when the run's model calls are spent, and dead-letters no record for it", async () => {
    const deadLetters = { add: vi.fn() };
    const load = vi.fn();
    const graph = createEtlGraph({ name: "feedback", extract: () => ["Great", "Okay", "Fine", "Slow", "Nice"].map((comment, index) => ({ id: `r${index}`, email: "a@example.com", comment })), transform: async (row: Row, context) => ({ ...row, sentiment: await label(row.comment, context) }), load, deadLetters });
    const failure = run(graph, {}, { model: sentimentModel(5), budget: { maxModelCalls: 2 } });
    await expect(failure).rejects.toBeInstanceOf(BudgetExceededError);
    expect(deadLetters.add).not.toHaveBeenCalled();
    expect(load).not.toHaveBeenCalled();
  });

  it("leaves the run interrupted with the approval pending when transform calls interrupt(), then loads on resume", async () => {
    const deadLetters = { add: vi.fn() };
    const load = vi.fn();
    const graph = createEtlGraph({
      name: "refunds",
      extract: () => [10, 150, 20],
      transform: (amount: number) => {
        if (amount < 100) return amount;
        const decision = interrupt({ type: "conclave.approval", kind: "tool", tool: "refund", args: { amount }, summary: `refund $${amount}` }) as { decision: string };
        return decision.decision === "approve" ? amount : 0;
      },
      load,
      deadLetters,
    });
    const checkpointer = new MemorySaver();
    const paused = await run(graph, {}, { checkpointer, threadId: "etl-refunds" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending).toEqual([{ interruptId: expect.any(String), request: expect.objectContaining({ kind: "tool", tool: "refund", summary: "refund $150" }) }]);
    expect(load).not.toHaveBeenCalled();
    const finished = await resume(graph, { checkpointer, threadId: "etl-refunds", decisions: { decision: "approve", actor: "ana" } });
    expect(finished.status).toBe("done");
    expect(finished.state.loaded).toEqual([0, 1, 2]);
    expect(finished.state.failures).toEqual([]);
    expect(deadLetters.add).not.toHaveBeenCalled();
  });

  it("rejects options without the stage functions", () => {
    expect(() => createEtlGraph({ extract: () => [], load: () => {} } as never)).toThrow(DefinitionError);
    expect(() => createEtlGraph({ extract: () => [], load: () => {} } as never)).toThrow(/must be a function \(record, context\) => record\s+→ at transform/);
  });
});
