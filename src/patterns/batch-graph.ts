import { randomUUID } from "node:crypto";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";
import { BATCH_SHAPE, BatchSettingsSchema, chunkRanges, finishBatch, parsePatternOptions, processChunks } from "./batch.ts";
import type { BatchReport, BatchSettings, ProcessedBatch } from "./batch.ts";

/** The state of a batch graph: `items` in (or `source` for `gather`), `report` out. */
export const BatchState = new StateSchema({
  /** Handed to `gather` (a path, a query); unused without one. */
  source: z.string().optional(),
  items: z.array(z.unknown()).default(() => []),
  chunks: z.array(z.tuple([z.number().int(), z.number().int()])).default(() => []),
  batchId: z.string().optional(),
  startedAt: z.number().optional(),
  processed: z.custom<ProcessedBatch<unknown, unknown>>().optional(),
  report: z.custom<BatchReport<unknown, unknown, unknown>>().optional(),
});
type State = typeof BatchState.State;

export interface BatchGraphOptions<T, R, A = R[]> extends BatchSettings<T, R, A> {
  /** Reads the items from the input's `source` (default: the input's `items`). */
  gather?: (source: string | undefined, config: LangGraphRunnableConfig) => Iterable<T> | AsyncIterable<T> | Promise<T[]>;
}

/**
 * The batch as a LangGraph graph — gather → chunk → process → aggregate, each node observed — so
 * a batch runs under `run()` with its events, budget and checkpoints: a crash after `process`
 * resumes at `aggregate` without processing again. Results and items are checkpointed: keep them
 * JSON-serialisable.
 * Known limit: no per-item idempotency yet, so resuming a run cancelled mid-`process` re-runs all its chunks and writes their dead letters again.
 *
 * @example
 * const graph = createBatchGraph({ name: "tickets", chunkSize: 5, concurrency: 2, process: triage, deadLetters });
 * const { state } = await run(graph, { items: tickets });
 * console.log(state.report);
 */
export function createBatchGraph<T, R, A = R[]>(options: BatchGraphOptions<T, R, A>) {
  const settings = { ...options, ...parsePatternOptions(BatchSettingsSchema, options, "batch graph", BATCH_SHAPE.replace("items, ", "gather?, ")) } as BatchGraphOptions<T, R, A>;
  const gather = async (state: State, config: LangGraphRunnableConfig) => {
    const items: unknown[] = [];
    if (settings.gather) for await (const item of await settings.gather(state.source, config)) items.push(item);
    return { items: settings.gather ? items : state.items, batchId: randomUUID(), startedAt: Date.now() };
  };
  const chunk = (state: State) => ({ chunks: chunkRanges(state.items.length, settings.chunkSize!) });
  const process = async (state: State, config: LangGraphRunnableConfig) => ({
    processed: await processChunks(settings, state.items as T[], state.chunks, { startedAt: state.startedAt!, batchId: state.batchId!, config, ...(config.signal ? { signal: config.signal } : {}) }),
  });
  const aggregate = async (state: State, config: LangGraphRunnableConfig) => {
    const report = await finishBatch(settings, state.processed as ProcessedBatch<T, R>, state.startedAt!);
    reportEvent(config, { type: "decision", by: settings.name!, next: "finish", reason: `${report.succeeded} of ${report.total} items succeeded, ${report.failed} failed${report.skipped ? `, ${report.skipped} skipped` : ""} in ${report.durationMs} ms (${report.throughputPerSecond}/s)` });
    return { report: report as BatchReport<unknown, unknown, unknown> };
  };
  const graph = new StateGraph(BatchState)
    .addNode("gather", observeNode("gather", gather))
    .addNode("chunk", observeNode("chunk", chunk))
    .addNode("process", observeNode("process", process))
    .addNode("aggregate", observeNode("aggregate", aggregate))
    .addEdge(START, "gather")
    .addEdge("gather", "chunk")
    .addEdge("chunk", "process")
    .addEdge("process", "aggregate")
    .addEdge("aggregate", END)
    .compile({ name: settings.name! });
  return setStepBudget(graph, 8);
}
