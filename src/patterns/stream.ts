import { isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { errorRecord, parsePatternOptions } from "./batch.ts";
import type { DeadLetterSink } from "./batch.ts";

/** What `process` and `sink` are told about the micro-batch. */
export interface StreamBatchContext {
  /** 0-based, in stream order. */
  batchIndex: number;
  /** Why the batch was cut: it reached `batch.size`, waited `batch.maxWaitMs`, or the source ended. */
  flushedBy: "size" | "time" | "end";
  config?: LangGraphRunnableConfig;
}

/** Something an operator should look at; the stream goes on (or stops, for a failure with no dead-letter queue). */
export type StreamAlert =
  | { kind: "buffer-full"; message: string; fullForMs: number; bufferSize: number }
  | { kind: "process-failed"; message: string; stage: "process" | "sink"; batchIndex: number; items: number; error: string };

export interface StreamProcessorOptions<T, R> {
  /** Labels alerts and dead letters (default "stream"). */
  name?: string;
  /** Pulled only when the buffer has room: a slow consumer slows the producer, and nothing is dropped. */
  source: AsyncIterable<T> | Iterable<T>;
  /** Most items pulled and waiting for a batch. */
  bufferSize: number;
  /** A batch is cut at `size` items, or when its oldest item has waited `maxWaitMs`. */
  batch: { size: number; maxWaitMs: number };
  /** Turns a batch into what the sink receives (default: the batch itself). */
  process?: (batch: T[], context: StreamBatchContext) => R[] | Promise<R[]>;
  sink: (results: R[], context: StreamBatchContext) => void | Promise<void>;
  onAlert?: (alert: StreamAlert) => void;
  /** The buffer-full alert fires when the producer has been held back this long without the consumer catching up (default 1000). */
  alertAfterMs?: number;
  /** A batch that fails goes here item by item and the stream goes on; without one, a failure stops the stream. */
  deadLetters?: DeadLetterSink;
}

/** What a stream did. `sunk + deadLettered + unprocessed === pulled`, always. */
export interface StreamReport {
  name: string;
  status: "done" | "aborted";
  pulled: number;
  sunk: number;
  deadLettered: number;
  /** Items pulled but never processed because the stream was aborted (0 when it ends normally). */
  unprocessed: number;
  batches: number;
  /** Batches cut by `maxWaitMs` before they were full. */
  timeFlushes: number;
  /** Most items ever pulled but not yet sunk (at most `bufferSize + batch.size`). */
  maxInFlight: number;
  alerts: number;
  durationMs: number;
}

/** A batch failed and there was no dead-letter queue: the stream stopped. `unprocessed` holds every item pulled but not sunk. */
export class StreamProcessingError<T = unknown> extends ConclaveError {
  override name = "StreamProcessingError";
  readonly unprocessed: T[];
  constructor(stream: string, stage: "process" | "sink", batchIndex: number, unprocessed: T[], cause: unknown) {
    super("STREAM_BATCH_FAILED", "user", `Stream "${stream}" stopped: batch ${batchIndex} failed in ${stage}: ${cause instanceof Error ? cause.message : String(cause)}. Its items and the buffered ones (${unprocessed.length}) are in error.unprocessed; pass deadLetters to keep failed batches and carry on instead.`, { cause, details: { stream, stage, batchIndex, unprocessed: unprocessed.length } });
    this.unprocessed = unprocessed;
  }
}

/** Resolves every current waiter on `notify()`; a wait started later waits for the next one. */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, Math.max(0, timeoutMs));
      const self = this;
      function done() {
        if (timer) clearTimeout(timer);
        self.waiters = self.waiters.filter((waiter) => waiter !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }
  notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

const isFunction = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", `must be a function ${what}`);
const OptionsSchema = z.object({
  name: z.string().min(1).default("stream"),
  source: z.custom<Iterable<unknown>>((value) => typeof value === "object" && value !== null && (Symbol.asyncIterator in value || Symbol.iterator in value), "must be an async iterable (or an iterable)"),
  bufferSize: z.number().int().positive(),
  batch: z.object({ size: z.number().int().positive(), maxWaitMs: z.number().nonnegative() }),
  process: isFunction("(batch, context) => results").optional(),
  sink: isFunction("(results, context) => void"),
  onAlert: isFunction("(alert) => void").optional(),
  alertAfterMs: z.number().positive().default(1000),
  deadLetters: z.custom<DeadLetterSink>((value) => typeof (value as DeadLetterSink | undefined)?.add === "function", "must be a DeadLetterQueue").optional(),
});

/**
 * Stream processing with backpressure: source → bounded buffer → micro-batches (by size, or by
 * time so a quiet stream still flushes) → process → sink. The source is pulled only when the
 * buffer has room, so a slow sink slows the producer and nothing is ever dropped: at most
 * `bufferSize + batch.size` items are in flight. Alerts fire when the producer has been held back
 * longer than `alertAfterMs`, and when a batch fails (it then goes to `deadLetters`, or stops the
 * stream with `StreamProcessingError`). After an abort no new batch starts; the buffered items are
 * counted as `unprocessed`. A spent budget or an interrupt in `process` stops the stream and is
 * rethrown. Inside a graph node, pass the node's `config` to `run`:
 * alerts become `warning` events of the run, and `process` can call models with it.
 *
 * @example
 * const stream = createStreamProcessor({ source: readings(), bufferSize: 100, batch: { size: 20, maxWaitMs: 500 },
 *   process: (batch) => batch.filter(isAnomaly), sink: (anomalies) => store.insert(anomalies),
 *   onAlert: (alert) => pager.warn(alert.message) });
 * const report = await stream.run();
 */
export function createStreamProcessor<T, R = T>(options: StreamProcessorOptions<T, R>) {
  const settings = parsePatternOptions(OptionsSchema, options, "stream processor", "{ source, bufferSize, batch: { size, maxWaitMs }, process?, sink, onAlert?, alertAfterMs?, deadLetters? }");
  const { name, bufferSize, alertAfterMs } = settings;
  const { size, maxWaitMs } = settings.batch;
  let started = false;

  async function run(runOptions: { signal?: AbortSignal; config?: LangGraphRunnableConfig } = {}): Promise<StreamReport> {
    if (started) throw new ConclaveError("STREAM_ALREADY_RAN", "user", `Stream "${name}" has already run: its source can be read once. Create a new processor for a new source.`);
    started = true;
    const { signal, config } = runOptions;
    const startedAt = Date.now();
    const buffer: Array<{ item: T; at: number }> = [];
    const room = new Notifier();
    const data = new Notifier();
    const counts = { pulled: 0, sunk: 0, deadLettered: 0, unprocessed: 0, batches: 0, timeFlushes: 0, maxInFlight: 0, alerts: 0 };
    let sourceDone = false;
    let stopped = false;
    let sourceError: unknown;
    // Back-pressure episode: from the producer's first wait for room until the consumer catches up (finds the buffer empty).
    let pressure: { since: number; timer: NodeJS.Timeout } | undefined;

    const alert = (raised: StreamAlert) => {
      counts.alerts++;
      options.onAlert?.(raised);
      reportEvent(config, { type: "warning", message: raised.message });
    };
    const caughtUp = () => {
      if (pressure) clearTimeout(pressure.timer);
      pressure = undefined;
    };
    const heldBack = () => {
      if (pressure) return;
      const since = Date.now();
      pressure = { since, timer: setTimeout(() => {
        alert({ kind: "buffer-full", fullForMs: Date.now() - since, bufferSize, message: `${name}: the buffer (${bufferSize} items) has been full for ${Date.now() - since} ms: the consumer cannot keep up, so the source is being held back` });
      }, alertAfterMs) };
    };
    // Set while the producer waits on the source, so a stop can end that wait.
    let halt: (() => void) | undefined;
    const stop = () => {
      stopped = true;
      halt?.();
      room.notify();
      data.notify();
    };
    if (signal?.aborted) stop();
    signal?.addEventListener("abort", stop, { once: true });

    const produce = async () => {
      const iterator = Symbol.asyncIterator in options.source ? (options.source as AsyncIterable<T>)[Symbol.asyncIterator]() : (options.source as Iterable<T>)[Symbol.iterator]();
      try {
        while (!stopped) {
          while (buffer.length >= bufferSize && !stopped) {
            heldBack();
            await room.wait();
          }
          if (stopped) break;
          // Pulled only now that there is room: the source never runs ahead of the buffer.
          // An abort does not wait for a source that has nothing to give (an idle event stream).
          const next = await new Promise<IteratorResult<T> | "halted">((resolve, reject) => {
            halt = () => resolve("halted");
            Promise.resolve(iterator.next()).then(resolve, reject);
          });
          halt = undefined;
          if (next === "halted" || next.done) break;
          counts.pulled++;
          buffer.push({ item: next.value, at: Date.now() });
          counts.maxInFlight = Math.max(counts.maxInFlight, counts.pulled - counts.sunk - counts.deadLettered);
          data.notify();
        }
      } catch (error) {
        sourceError = error;
      } finally {
        sourceDone = true;
        data.notify();
        // Closing the source is best effort; an iterator that cannot close does not hold up the stream.
        if (stopped) void Promise.resolve(iterator.return?.()).catch(() => {});
      }
    };

    const consume = async () => {
      for (;;) {
        while (buffer.length === 0 && !sourceDone) {
          caughtUp();
          await data.wait();
        }
        if (buffer.length === 0) return;
        // Wait for a full batch, but never past the oldest item's deadline.
        while (buffer.length < size && !sourceDone && !stopped && Date.now() < buffer[0]!.at + maxWaitMs) await data.wait(buffer[0]!.at + maxWaitMs - Date.now());
        // After an abort no new batch starts: what is left in the buffer is reported as unprocessed.
        if (stopped) {
          counts.unprocessed += buffer.splice(0).length;
          return;
        }
        const flushedBy = buffer.length >= size ? "size" : sourceDone ? "end" : "time";
        const batch = buffer.splice(0, size).map((entry) => entry.item);
        room.notify();
        counts.batches++;
        if (flushedBy === "time") counts.timeFlushes++;
        const context: StreamBatchContext = { batchIndex: counts.batches - 1, flushedBy, ...(config ? { config } : {}) };
        await handle(batch, context);
      }
    };

    const handle = async (batch: T[], context: StreamBatchContext) => {
      let stage: "process" | "sink" = "process";
      try {
        const results = options.process ? await options.process(batch, context) : (batch as unknown as R[]);
        stage = "sink";
        await options.sink(results, context);
        counts.sunk += batch.length;
      } catch (error) {
        // A batch cut short by the abort is unprocessed, not failed; a spent budget or an interrupt is the run's business.
        if (signal?.aborted) {
          counts.unprocessed += batch.length;
          return;
        }
        if (isGraphBubbleUp(error) || isBudgetExceeded(error)) throw error;
        const message = error instanceof Error ? error.message : String(error);
        alert({ kind: "process-failed", stage, batchIndex: context.batchIndex, items: batch.length, error: message, message: `${name}: batch ${context.batchIndex} (${batch.length} items) failed in ${stage}: ${message}${settings.deadLetters ? "; kept in the dead-letter queue" : "; stopping the stream"}` });
        if (!settings.deadLetters) {
          stop();
          throw new StreamProcessingError(name, stage, context.batchIndex, [...batch, ...buffer.splice(0).map((entry) => entry.item)], error);
        }
        const traceId = runContext(config).events?.runId ?? "";
        for (const [offset, item] of batch.entries()) settings.deadLetters.add({ kind: "batch-item", graph: name, input: item, options: { stage, batchIndex: context.batchIndex, offset }, error: errorRecord(error, "STREAM_BATCH_FAILED"), attempts: 1, traceId });
        counts.deadLettered += batch.length;
      }
    };

    // A consumer that fails stops the producer, and the producer is awaited so the source is closed before run() settles.
    const [, consumed] = await Promise.allSettled([produce(), consume().catch((error: unknown) => { stop(); throw error; })]);
    caughtUp();
    signal?.removeEventListener("abort", stop);
    if (consumed.status === "rejected") throw consumed.reason;
    if (sourceError !== undefined) throw new ConclaveError("STREAM_SOURCE_FAILED", "user", `Stream "${name}": the source failed after ${counts.pulled} items: ${sourceError instanceof Error ? sourceError.message : String(sourceError)}. Every item pulled before the failure was processed; fix the source and resume from item ${counts.pulled}.`, { cause: sourceError, details: { stream: name, pulled: counts.pulled } });
    return { name, status: stopped ? "aborted" : "done", ...counts, durationMs: Date.now() - startedAt };
  }

  return { name, run };
}
