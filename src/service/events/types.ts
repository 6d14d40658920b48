import { z } from "zod";
import type { ConclaveEvent } from "../../events/types.ts";

/** The statuses a service run moves through (`GET /runs/:id`). */
export const RunStatusSchema = z.enum(["queued", "running", "interrupted", "done", "failed", "cancelled"]);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * A service run changed status: queued (submitted, or continued by a decision), running (a worker
 * took it; `resumed` when it continues from a checkpoint another process left), interrupted
 * (waiting for approval), done, failed, cancelled. Published on the event stream next to the run's
 * own events, so subscribers see the lifecycle and the SSE endpoint knows when a stream ends.
 */
export const RunStatusEventSchema = z.object({
  type: z.literal("run-status"),
  /** The service run's id (not the runtime's per-attempt `runId` of the other events). */
  serviceRunId: z.string(),
  graph: z.string(),
  status: RunStatusSchema,
  at: z.number(),
  /** The process that reported it (`host:pid`). */
  worker: z.string().optional(),
  /** Which attempt of the run's job this is (BullMQ `attemptsMade + 1`; more than 1 after a worker died). */
  attempt: z.number().optional(),
  /** Set on "running" when the run continues from its thread's last checkpoint. */
  resumed: z.boolean().optional(),
  error: z.string().optional(),
});
export type RunStatusEvent = z.infer<typeof RunStatusEventSchema>;

/** What the service's event stream carries: the runtime's events of a run, and its status changes. */
export type ServiceEvent = ConclaveEvent | RunStatusEvent;

/**
 * The envelope a subscriber receives (and what is stored in the Redis stream, as JSON in field
 * `event` next to `run`): only the type is checked here, since runtime events are many shapes.
 */
export const ServiceEventSchema = z.object({ type: z.string() }).passthrough() as unknown as z.ZodType<ServiceEvent>;

/** Statuses after which a run's event stream ends until a decision continues it. */
export const STREAM_END_STATUSES: ReadonlySet<RunStatus> = new Set(["interrupted", "done", "failed", "cancelled"]);

/** True when the event says the run stopped (its stream ends here unless more events follow). */
export function endsStream(event: ServiceEvent): boolean {
  return event.type === "run-status" && STREAM_END_STATUSES.has((event as RunStatusEvent).status);
}

/** One event as read back: its id in the run's stream (the SSE `id:`, a client's `Last-Event-ID`). */
export interface StoredEvent {
  id: string;
  event: ServiceEvent;
}

/**
 * A run's events, and every run's for subscribers: the in-process bus for a single `conclave serve`,
 * Redis streams when workers run elsewhere. The SSE endpoint (`read`) and the metrics (`subscribe`)
 * read the same stream.
 */
export interface ServiceEventBus {
  publish(runId: string, event: ServiceEvent): Promise<void>;
  /** Every event of every run published from now on. Returns the unsubscribe function. */
  subscribe(listener: (runId: string, event: ServiceEvent) => void): () => void;
  /**
   * The run's events after `after` (an id from an earlier read; undefined for all kept), then live
   * ones, until `signal` aborts or the run stops (a terminal "run-status" with nothing after it).
   * `settled` is asked when nothing arrives for a while: a run that ended before its events were kept
   * (or after they expired) ends its stream instead of waiting forever.
   */
  read(runId: string, after: string | undefined, signal: AbortSignal, settled?: () => Promise<boolean>): AsyncIterable<StoredEvent>;
  /** Whether `value` has the shape of this bus's event ids (a client's `Last-Event-ID` is checked before reading). */
  isEventId(value: string): boolean;
  /** The run's last kept event (a worker taking over a run checks whether its end was announced). */
  lastEvent(runId: string): Promise<ServiceEvent | undefined>;
  close(): Promise<void>;
}
