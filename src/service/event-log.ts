import type { ConclaveEvent } from "../events/types.ts";
import type { RunEventLog } from "./types.ts";

interface Entry {
  seq: number;
  event: ConclaveEvent;
}

interface Log {
  entries: Entry[];
  /** The run stopped (done, failed, cancelled or paused for approval): readers stop following. */
  ended: boolean;
  waiters: Set<() => void>;
}

/**
 * A run's events kept in this process, numbered from 1 per run: `read` replays what came after a
 * sequence number (an SSE client's `Last-Event-ID`) and then follows live events until the run
 * ends. A run paused for approval ends its stream; a decision reopens it for the resumed events.
 */
export class InMemoryRunEventLog implements RunEventLog {
  private readonly logs = new Map<string, Log>();

  async append(runId: string, event: ConclaveEvent): Promise<number> {
    const log = this.logOf(runId);
    const seq = log.entries.length + 1;
    log.entries.push({ seq, event });
    log.ended = false;
    this.wake(log);
    return seq;
  }

  /** The run stopped: live readers finish after the events they have not seen yet. */
  end(runId: string): void {
    const log = this.logOf(runId);
    log.ended = true;
    this.wake(log);
  }

  /** The run continues (a decision was taken): readers that connect now follow it again. */
  reopen(runId: string): void {
    this.logOf(runId).ended = false;
  }

  /** The last sequence number of a run (0 when it has none). */
  lastSeq(runId: string): number {
    return this.logs.get(runId)?.entries.length ?? 0;
  }

  async *read(runId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<{ seq: number; event: ConclaveEvent }> {
    const log = this.logOf(runId);
    let next = Math.max(0, afterSeq);
    while (!signal.aborted) {
      while (next < log.entries.length) yield log.entries[next++]!;
      if (log.ended || signal.aborted) return;
      await this.waitFor(log, signal);
    }
  }

  async close(): Promise<void> {
    for (const log of this.logs.values()) {
      log.ended = true;
      this.wake(log);
    }
  }

  private logOf(runId: string): Log {
    let log = this.logs.get(runId);
    if (!log) this.logs.set(runId, (log = { entries: [], ended: false, waiters: new Set() }));
    return log;
  }

  private wake(log: Log): void {
    for (const waiter of [...log.waiters]) waiter();
  }

  private waitFor(log: Log, signal: AbortSignal): Promise<void> {
    return new Promise((done) => {
      const finish = () => {
        log.waiters.delete(finish);
        signal.removeEventListener("abort", finish);
        done();
      };
      log.waiters.add(finish);
      signal.addEventListener("abort", finish, { once: true });
    });
  }
}
