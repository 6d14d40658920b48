import { randomUUID } from "node:crypto";
import { isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError, isConclaveError } from "../errors.ts";
import type { DeadLetter } from "../resilience/dead-letters.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent, runContext } from "../runtime/context.ts";

/** Where failed items go: a `DeadLetterQueue`, or anything with its `add`. */
export interface DeadLetterSink {
  add(letter: Omit<DeadLetter, "id" | "createdAt" | "status">): DeadLetter;
}

/** What `process` is told about the item it handles. */
export interface BatchItemContext {
  /** The item's position in the batch (0-based). */
  index: number;
  /** Its chunk (0-based). */
  chunk: number;
  /** The node's config, when the batch runs inside a graph: pass it to agents and `observeModelCall`. */
  config?: LangGraphRunnableConfig;
  signal?: AbortSignal;
}

/** Sent after every chunk. */
export interface BatchProgress {
  name: string;
  done: number;
  total: number;
  succeeded: number;
  failed: number;
  chunksDone: number;
  chunks: number;
  elapsedMs: number;
}

/** An item `process` threw on, with the dead letter it became. */
export interface BatchFailure<T = unknown> {
  index: number;
  chunk: number;
  item: T;
  error: DeadLetter["error"];
  deadLetterId?: string;
  /** Why the item could not be kept in the dead-letter queue, when that failed too. */
  deadLetterError?: string;
}

/** What a batch did. `succeeded + failed + skipped === total`, always. */
export interface BatchReport<T = unknown, R = unknown, A = R[]> {
  batchId: string;
  name: string;
  status: "done" | "aborted";
  total: number;
  succeeded: number;
  failed: number;
  /** Items never started because the batch was aborted. */
  skipped: number;
  chunks: number;
  /** Most chunks that were ever in flight at once (never above `concurrency`). */
  maxInFlight: number;
  durationMs: number;
  /** Items finished (succeeded or failed) per second. */
  throughputPerSecond: number;
  failures: BatchFailure<T>[];
  /** What `aggregate` made of the successful results (by default, the results in item order). */
  aggregate: A;
}

/** The settings `runBatch` and `createBatchGraph` share. */
export interface BatchSettings<T, R, A> {
  /** Labels the run's dead letters (their `graph` column) and progress (default "batch"). */
  name?: string;
  /** Items per chunk (default 10): the unit of progress; a chunk's items run one after another. */
  chunkSize?: number;
  /** Chunks in flight at once (default 4). */
  concurrency?: number;
  process: (item: T, context: BatchItemContext) => R | Promise<R>;
  /** Combines the successful results, in item order (default: the results themselves). */
  aggregate?: (results: R[], failures: BatchFailure<T>[]) => A | Promise<A>;
  onProgress?: (progress: BatchProgress) => void;
  /** Failed items are kept here as kind "batch-item"; replay them with `replayBatchItems`. */
  deadLetters?: DeadLetterSink;
}

export interface BatchOptions<T, R, A = R[]> extends BatchSettings<T, R, A> {
  items: Iterable<T> | AsyncIterable<T>;
  /** Stops starting chunks; the report counts the rest as skipped. */
  signal?: AbortSignal;
  /** The node's config, when called from inside a graph node (events, budget, model calls). */
  config?: LangGraphRunnableConfig;
}

const isFunction = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", `must be a function ${what}`);
export const BatchSettingsSchema = z.object({
  name: z.string().min(1).default("batch"),
  chunkSize: z.number().int().positive().default(10),
  concurrency: z.number().int().positive().default(4),
  process: isFunction("(item, context) => result"),
  aggregate: isFunction("(results, failures) => value").optional(),
  onProgress: isFunction("(progress) => void").optional(),
  deadLetters: z.custom<DeadLetterSink>((value) => typeof (value as DeadLetterSink | undefined)?.add === "function", "must be a DeadLetterQueue (something with add(letter))").optional(),
});

/** Parses options with `schema`, or throws a DefinitionError naming every problem and the expected shape. */
export function parsePatternOptions<S extends z.ZodType>(schema: S, options: unknown, what: string, shape: string): z.output<S> {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) throw new DefinitionError(`Invalid ${what}: ${z.prettifyError(parsed.error)}. Pass ${shape}.`, { details: { issues: parsed.error.issues } });
  return parsed.data;
}

export const BATCH_SHAPE = "{ items, chunkSize, concurrency, process(item, context), aggregate?, onProgress?, deadLetters? }";
const BatchOptionsSchema = BatchSettingsSchema.extend({
  items: z.custom<Iterable<unknown>>((value) => typeof value === "object" && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value), "must be an array, an iterable or an async iterable of items"),
});

/**
 * Runs `process` over every item: gathered, cut into chunks of `chunkSize`, with at most
 * `concurrency` chunks in flight. An item that throws does not stop the batch: it is reported and
 * kept in `deadLetters` as a "batch-item" (`conclave dlq list` shows it). A spent run budget or a
 * LangGraph interrupt is not an item failure: the batch stops starting items and rethrows it.
 * Returns a report whose counts add up, with duration and throughput.
 *
 * @example
 * const report = await runBatch({ name: "summaries", items: tickets, chunkSize: 20, concurrency: 3,
 *   process: (ticket) => summarise(ticket), deadLetters: new DeadLetterQueue(),
 *   onProgress: ({ done, total }) => console.log(`${done}/${total}`) });
 */
export async function runBatch<T, R, A = R[]>(options: BatchOptions<T, R, A>): Promise<BatchReport<T, R, A>> {
  const { name, chunkSize, concurrency } = parsePatternOptions(BatchOptionsSchema, options, "batch", BATCH_SHAPE);
  const settings: BatchSettings<T, R, A> = { ...options, name, chunkSize, concurrency };
  const startedAt = Date.now();
  const items: T[] = [];
  for await (const item of options.items) items.push(item);
  const done = await processChunks(settings, items, chunkRanges(items.length, chunkSize), { startedAt, batchId: randomUUID(), ...pick(options) });
  return finishBatch(settings, done, startedAt);
}

function pick(options: { signal?: AbortSignal; config?: LangGraphRunnableConfig }) {
  return { ...(options.signal ? { signal: options.signal } : {}), ...(options.config ? { config: options.config } : {}) };
}

/** [start, end) of each chunk. */
export function chunkRanges(total: number, chunkSize: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let start = 0; start < total; start += chunkSize) ranges.push([start, Math.min(total, start + chunkSize)]);
  return ranges;
}

/** The processed chunks, before aggregation: what the graph keeps in its state between nodes. */
export interface ProcessedBatch<T, R> {
  batchId: string;
  name: string;
  status: "done" | "aborted";
  total: number;
  chunks: number;
  maxInFlight: number;
  /** Successful results by item index. */
  results: Array<{ index: number; result: R }>;
  failures: BatchFailure<T>[];
}

/**
 * The engine: a pool of `concurrency` workers, each taking the next chunk as soon as its last one
 * ends, so a slow chunk never holds up the others (LangGraph's `Send` would run chunks in waves
 * that each wait for their slowest).
 */
export async function processChunks<T, R, A>(settings: BatchSettings<T, R, A>, items: readonly T[], ranges: ReadonlyArray<readonly [number, number]>, run: { startedAt: number; batchId: string; signal?: AbortSignal; config?: LangGraphRunnableConfig }): Promise<ProcessedBatch<T, R>> {
  const name = settings.name ?? "batch";
  const results: Array<{ index: number; result: R }> = [];
  const failures: BatchFailure<T>[] = [];
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let chunksDone = 0;
  // A spent budget or an interrupt belongs to the run: it stops every worker and is rethrown once they have stopped.
  let fatal: { error: unknown } | undefined;
  const stopped = () => run.signal?.aborted === true || fatal !== undefined;
  // Dead letters name the run they came from, so the logs and traces of a failed item can be found.
  const traceId = runContext(run.config).events?.runId ?? run.batchId;
  const worker = async () => {
    while (next < ranges.length && !stopped()) {
      const chunk = next++;
      const [start, end] = ranges[chunk]!;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        for (let index = start; index < end && !stopped(); index++) {
          const item = items[index]!;
          try {
            results.push({ index, result: await settings.process(item, { index, chunk, ...pick(run) }) });
          } catch (error) {
            // Cancelled, not failed: the item is counted as skipped and kept out of the dead-letter queue.
            if (run.signal?.aborted) break;
            if (isGraphBubbleUp(error) || isBudgetExceeded(error)) {
              fatal ??= { error };
              break;
            }
            failures.push(deadLetter(settings.deadLetters, { name, index, chunk, item, error, traceId, batchId: run.batchId }));
          }
        }
      } finally {
        inFlight--;
      }
      if (fatal) return;
      chunksDone++;
      const progress: BatchProgress = { name, done: results.length + failures.length, total: items.length, succeeded: results.length, failed: failures.length, chunksDone, chunks: ranges.length, elapsedMs: Date.now() - run.startedAt };
      settings.onProgress?.(progress);
      reportEvent(run.config, { type: "round-end", round: chunksDone, loop: name, measures: { done: progress.done, total: progress.total, failed: progress.failed }, summary: `${chunksDone}/${ranges.length} chunks done, ${progress.done}/${progress.total} items, ${progress.failed} failed` });
    }
  };
  const concurrency = Math.max(1, Math.min(settings.concurrency ?? 4, ranges.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (fatal) throw fatal.error;
  results.sort((a, b) => a.index - b.index);
  failures.sort((a, b) => a.index - b.index);
  return { batchId: run.batchId, name, status: run.signal?.aborted ? "aborted" : "done", total: items.length, chunks: ranges.length, maxInFlight, results, failures };
}

/** Aggregates the results and writes the report. */
export async function finishBatch<T, R, A>(settings: BatchSettings<T, R, A>, done: ProcessedBatch<T, R>, startedAt: number): Promise<BatchReport<T, R, A>> {
  const values = done.results.map((entry) => entry.result);
  const aggregate = settings.aggregate ? await settings.aggregate(values, done.failures) : (values as unknown as A);
  const durationMs = Math.max(1, Date.now() - startedAt);
  const finished = done.results.length + done.failures.length;
  return {
    batchId: done.batchId,
    name: done.name,
    status: done.status,
    total: done.total,
    succeeded: done.results.length,
    failed: done.failures.length,
    skipped: done.total - finished,
    chunks: done.chunks,
    maxInFlight: done.maxInFlight,
    durationMs,
    throughputPerSecond: Math.round((finished / durationMs) * 1000 * 100) / 100,
    failures: done.failures,
    aggregate,
  };
}

/** Code, message and category of anything thrown, as a dead letter keeps them. */
export function errorRecord(error: unknown, fallbackCode: string): DeadLetter["error"] {
  if (isConclaveError(error)) return { code: error.code, message: error.message, category: error.category };
  return { code: fallbackCode, message: error instanceof Error ? error.message : String(error) };
}

/** Records a failed item, in the dead-letter queue when there is one; a queue that fails is reported, never fatal. */
function deadLetter<T>(queue: DeadLetterSink | undefined, failed: { name: string; index: number; chunk: number; item: T; error: unknown; traceId: string; batchId: string }): BatchFailure<T> {
  const error = errorRecord(failed.error, "BATCH_ITEM_FAILED");
  const failure: BatchFailure<T> = { index: failed.index, chunk: failed.chunk, item: failed.item, error };
  if (!queue) return failure;
  // Model calls retry inside process (observeModelCall): a failed item has used its retries, so attempts is 1 here.
  const attempts = isConclaveError(failed.error) && typeof failed.error.details.attempts === "number" ? failed.error.details.attempts : 1;
  try {
    const letter = queue.add({ kind: "batch-item", graph: failed.name, input: failed.item, options: { batchId: failed.batchId, index: failed.index, chunk: failed.chunk }, error, attempts, traceId: failed.traceId });
    return { ...failure, deadLetterId: letter.id };
  } catch (caught) {
    return { ...failure, deadLetterError: caught instanceof Error ? caught.message : String(caught) };
  }
}

/** The queue operations `replayBatchItems` needs (a `DeadLetterQueue` has them). */
export interface ReplayableDeadLetters {
  list(status?: DeadLetter["status"]): DeadLetter[];
  markReplayed(id: string, result: unknown): DeadLetter;
}

/**
 * Replays the dead "batch-item" letters of batch `name` through `process` (what `conclave dlq
 * replay` cannot do: it only knows how to re-run graphs). Each success is marked replayed with
 * its result; an item that fails again stays dead, with its original letter.
 *
 * @example
 * const report = await replayBatchItems({ deadLetters: new DeadLetterQueue(), name: "tickets", process: triage });
 */
export async function replayBatchItems<T, R>(options: { deadLetters: ReplayableDeadLetters; name: string; process: (item: T, context: BatchItemContext) => R | Promise<R>; chunkSize?: number; concurrency?: number; onProgress?: (progress: BatchProgress) => void }): Promise<BatchReport<DeadLetter, R>> {
  const letters = options.deadLetters.list("dead").filter((letter) => letter.kind === "batch-item" && letter.graph === options.name);
  return runBatch<DeadLetter, R>({
    name: options.name,
    items: letters,
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    process: async (letter, context) => {
      const result = await options.process(letter.input as T, { ...context, index: (letter.options.index as number | undefined) ?? context.index });
      options.deadLetters.markReplayed(letter.id, result);
      return result;
    },
  });
}
