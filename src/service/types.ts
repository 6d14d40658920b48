import type { PendingApproval } from "../hitl/decisions.ts";
import type { RunStatus } from "./events/types.ts";

/** A run as the service reports it (`GET /runs/:id`). */
export interface ServiceRun {
  id: string;
  graph: string;
  threadId: string;
  status: RunStatus;
  input: string;
  /** The graph's answer (`definition.output(state)`), once done. */
  result?: { answer: string; citations: unknown[]; details?: Record<string, unknown> };
  error?: string;
  pending?: PendingApproval[];
  /** The API key (its id, never the secret) that started it. */
  keyId?: string;
  /** A caller-given idempotency key: the same key starts at most one run. */
  idempotencyKey?: string;
  createdAt: number;
  updatedAt: number;
}

/** What starts a run. */
export interface RunRequest {
  graph: string;
  input: string;
  keyId?: string;
  idempotencyKey?: string;
  /** Where to POST a signed notification when the run ends. */
  callbackUrl?: string;
}

/**
 * Where runs wait and how they are executed: in this process (the default for `conclave serve`)
 * or on a BullMQ queue consumed by `conclave worker` processes. Both keep runs in the same
 * checkpointer, so any executor can resume any run.
 */
export interface RunQueue {
  /** Queues a run (or returns the existing one for a known idempotency key). */
  submit(request: RunRequest): Promise<ServiceRun>;
  get(id: string): Promise<ServiceRun | undefined>;
  list(options?: { status?: ServiceRun["status"]; limit?: number }): Promise<ServiceRun[]>;
  /** Cancels a queued or running run; false when it had already ended. */
  cancel(id: string): Promise<boolean>;
  /** Continues an interrupted run with decisions (approve / edit / reject), as `resume()` does. */
  decide(id: string, decisions: Record<string, unknown> | unknown): Promise<ServiceRun>;
  /** Checks what the queue depends on (database, Redis) for `GET /ready`. */
  ready?(): Promise<Record<string, { ok: boolean; error?: string }>>;
  close(graceMs?: number): Promise<void>;
}
