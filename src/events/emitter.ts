import { EventEmitter } from "eventemitter3";
import type { ConclaveEvent, ConclaveEventType, EventOf, EventPayload } from "./types.ts";

/** Listener signatures per event name; `"event"` receives every event. */
export type RunEventMap = { [K in ConclaveEventType]: [event: EventOf<K>] } & { event: [event: ConclaveEvent] };

/**
 * The typed event stream of runs. One emitter may be shared by many runs (a CLI, a server);
 * every event names its run and thread. Subscribers are synchronous and must not throw:
 * a throwing listener is reported once on stderr and never breaks the run.
 */
export class RunEvents extends EventEmitter<RunEventMap> {
  /** True when someone listens to `type` or to every event; lets emitters skip building unwanted events. */
  wants(type: ConclaveEventType): boolean {
    return this.listenerCount("event") > 0 || this.listenerCount(type) > 0;
  }

  private readonly reported = new Set<string>();

  /**
   * Emits `event` under `"event"` and under its own type, each in its own guard, so a listener
   * that throws on one channel cannot hide the event from the other (progress, tracing).
   */
  publish(event: ConclaveEvent): void {
    this.guarded(event, () => this.emit("event", event));
    this.guarded(event, () => this.emit(event.type, event as never));
  }

  private guarded(event: ConclaveEvent, emit: () => void): void {
    try {
      emit();
    } catch (error) {
      const message = `conclave: an event listener threw on "${event.type}": ${String(error)}`;
      if (this.reported.has(message)) return;
      this.reported.add(message);
      process.stderr.write(`${message} (listeners must not throw; reported once)\n`);
    }
  }
}

/** Binds a run's ids so the code that emits only supplies the event-specific fields. */
export interface RunEventSink {
  readonly runId: string;
  readonly threadId: string;
  emit(payload: EventPayload): void;
}

export function createEventSink(events: RunEvents, runId: string, threadId: string): RunEventSink {
  return {
    runId,
    threadId,
    emit(payload) {
      if (events.wants(payload.type)) events.publish({ ...payload, runId, threadId, at: Date.now() } as ConclaveEvent);
    },
  };
}
