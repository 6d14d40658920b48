import { z } from "zod";
import { parsePatternOptions } from "./batch.ts";

/** What a schedule did at a tick. */
export type BatchScheduleEvent =
  | { type: "run-start"; tick: number; at: number }
  | { type: "run-end"; tick: number; at: number; durationMs: number; result: unknown }
  | { type: "run-failed"; tick: number; at: number; durationMs: number; error: string }
  /** The previous run was still going: this tick did not start another (runs never overlap). */
  | { type: "tick-skipped"; tick: number; at: number; reason: string; runningTick: number; runningForMs: number };

export interface BatchScheduleOptions<R> {
  /** Milliseconds between ticks. Without it the job runs once, at `at`. */
  every?: number;
  /** The first tick (a Date or epoch milliseconds; default: now + `every`). A time in the past ticks at once. */
  at?: Date | number;
  /** The batch to run at each tick; `tick` counts from 1. */
  run: (tick: number) => Promise<R> | R;
  /** Every start, end, failure and skipped tick. */
  onEvent?: (event: BatchScheduleEvent) => void;
}

/** A running schedule. */
export interface ScheduledBatch {
  /** Stops ticking and waits for the run in progress, if any. */
  stop(): Promise<void>;
  /** Counts so far: ticks = runs + skipped. */
  stats(): { ticks: number; runs: number; failed: number; skipped: number; running: boolean };
}

const ScheduleSchema = z
  .object({
    every: z.number().positive().optional(),
    at: z.union([z.date(), z.number()]).optional(),
    run: z.custom<() => unknown>((value) => typeof value === "function", "must be a function (tick) => result"),
    onEvent: z.custom<() => void>((value) => typeof value === "function", "must be a function (event) => void").optional(),
  })
  .refine((options) => options.every !== undefined || options.at !== undefined, "give `every` (ms between runs), `at` (when to run), or both");

/**
 * Runs a batch on a schedule — every `every` ms, starting `at` — with no overlap: a tick that
 * finds the previous run still going is skipped and reported (`tick-skipped`), never queued, so a
 * slow run cannot pile up work behind it. Ticks stay on the grid `at + k × every` however long
 * runs take. A failed run is reported and the schedule carries on.
 *
 * @example
 * const nightly = scheduleBatch({ every: 60_000, run: () => runBatch({ items: load(), process, deadLetters }),
 *   onEvent: (event) => event.type === "tick-skipped" && console.warn(event.reason) });
 * // later: await nightly.stop();
 */
export function scheduleBatch<R>(options: BatchScheduleOptions<R>): ScheduledBatch {
  const { every, at } = parsePatternOptions(ScheduleSchema, options, "batch schedule", "{ every?: ms, at?: Date | epoch ms, run(tick), onEvent? }");
  const emit = (event: BatchScheduleEvent) => options.onEvent?.(event);
  const first = at === undefined ? Date.now() + every! : +at;
  const counts = { ticks: 0, runs: 0, failed: 0, skipped: 0 };
  let running: { tick: number; startedAt: number; done: Promise<void> } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const tick = () => {
    const number = ++counts.ticks;
    const now = Date.now();
    if (running) {
      counts.skipped++;
      const runningForMs = now - running.startedAt;
      emit({ type: "tick-skipped", tick: number, at: now, runningTick: running.tick, runningForMs, reason: `run ${running.tick} is still in progress (${runningForMs} ms so far); skipping tick ${number} rather than overlapping it` });
    } else {
      counts.runs++;
      emit({ type: "run-start", tick: number, at: now });
      // Marked running before the job starts, so even a job that throws synchronously clears it.
      const current = { tick: number, startedAt: now, done: Promise.resolve() };
      running = current;
      current.done = (async () => {
        try {
          const result = await options.run(number);
          emit({ type: "run-end", tick: number, at: Date.now(), durationMs: Date.now() - now, result });
        } catch (error) {
          counts.failed++;
          emit({ type: "run-failed", tick: number, at: Date.now(), durationMs: Date.now() - now, error: error instanceof Error ? error.message : String(error) });
        } finally {
          running = undefined;
        }
      })();
    }
    schedule();
  };

  // The next tick on the grid first + k·every, from the clock rather than the last tick, so ticks do not drift.
  const schedule = () => {
    if (stopped || every === undefined) {
      if (every === undefined) stopped = true;
      return;
    }
    const k = Math.max(counts.ticks, Math.ceil((Date.now() - first) / every));
    timer = setTimeout(tick, Math.max(0, first + k * every - Date.now()));
  };

  timer = setTimeout(tick, Math.max(0, first - Date.now()));
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.done;
    },
    stats: () => ({ ...counts, running: running !== undefined }),
  };
}
