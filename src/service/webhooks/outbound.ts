import { randomUUID } from "node:crypto";
import type { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { retryAfterOf } from "../../resilience/classify.ts";
import { signWebhook, webhookKey } from "./sign.ts";

export interface NotifierOptions {
  /** The secret shared with receivers (24 bytes or more; `whsec_<base64>` or plain text). */
  secret: string;
  /** Delivery attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** The first retry waits about this long; each later one about twice as long (default 500). */
  baseDelayMs?: number;
  /** No wait, Retry-After included, is longer than this (default 60 000). */
  maxDelayMs?: number;
  /** One attempt's time limit (default 10 000). */
  timeoutMs?: number;
  /** Where notifications that could not be delivered are kept for `conclave dlq replay`. */
  deadLetters?: DeadLetterQueue;
  fetch?: typeof fetch;
  /** For tests: how to wait, and the jitter source in [0, 1). */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** How a notification ended. `notify` always resolves with this; it never rejects. */
export interface NotifyResult {
  /** The `webhook-id` sent with every attempt, so the receiver can drop duplicates. */
  id: string;
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, when an answer came. */
  status?: number;
  error?: string;
  /** The dead letter's id, when the notification was given up and a queue was configured. */
  deadLetterId?: string;
}

export interface Notifier {
  /** POSTs `event` as signed JSON, retrying in the background; the caller need not await it. */
  notify(url: string, event: object): Promise<NotifyResult>;
}

type Attempt = { ok: true; status: number } | { ok: false; retryable: boolean; status?: number; retryAfterMs?: number; error: string };

/**
 * Signed outbound notifications (Standard Webhooks). Network errors, timeouts, 429 (Retry-After is
 * honoured) and 5xx are retried with exponential backoff and jitter; other 4xx are not, since the
 * receiver refused the request itself. What is given up goes to the dead-letter queue.
 */
export function createNotifier(options: NotifierOptions): Notifier {
  webhookKey(options.secret); // a short secret is a configuration error: say so now, not per call
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;

  async function attempt(url: string, id: string, body: string): Promise<Attempt> {
    // Signed afresh each attempt: a retry minutes later must still pass the receiver's timestamp check.
    const timestamp = Math.floor(Date.now() / 1_000);
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signWebhook({ id, timestamp, body }, options.secret),
    };
    try {
      const response = await doFetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel().catch(() => undefined); // the answer's body is not needed; free the socket
      if (response.ok) return { ok: true, status: response.status };
      const retryable = response.status === 429 || response.status >= 500;
      const retryAfterMs = retryable ? retryAfterOf({ headers: response.headers }) : undefined;
      return { ok: false, retryable, status: response.status, error: `HTTP ${response.status} ${response.statusText}`.trim(), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (error) {
      return { ok: false, retryable: true, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
  }

  async function deliver(url: string, event: object): Promise<NotifyResult> {
    const id = `msg_${randomUUID()}`;
    let body: string;
    try {
      body = JSON.stringify(event);
    } catch (error) {
      return giveUp(url, id, event, 0, { ok: false, retryable: false, error: `The event cannot be serialised as JSON: ${String(error)}` });
    }
    for (let attempts = 1; ; attempts++) {
      const last = await attempt(url, id, body);
      if (last.ok) return { id, delivered: true, attempts, status: last.status };
      if (!last.retryable || attempts === maxAttempts) return giveUp(url, id, event, attempts, last);
      const backoff = baseDelayMs * 2 ** (attempts - 1);
      const jittered = backoff / 2 + random() * (backoff / 2); // "equal jitter": spread, never zero
      await sleep(Math.min(maxDelayMs, Math.max(jittered, last.retryAfterMs ?? 0)));
    }
  }

  function giveUp(url: string, id: string, event: object, attempts: number, last: Attempt & { ok: false }): NotifyResult {
    const result: NotifyResult = { id, delivered: false, attempts, error: last.error, ...(last.status !== undefined ? { status: last.status } : {}) };
    if (!options.deadLetters) return result;
    try {
      // The queue knows runs and batch items only; a notification is kept as an item, its URL in options.
      const letter = options.deadLetters.add({
        kind: "batch-item",
        graph: "webhook",
        input: event,
        options: { webhook: url, webhookId: id },
        error: { code: last.status !== undefined ? `WEBHOOK_HTTP_${last.status}` : "WEBHOOK_UNREACHABLE", message: `Notifying ${url} failed after ${attempts} attempt(s): ${last.error}`, category: "provider" },
        attempts,
        traceId: id,
      });
      return { ...result, deadLetterId: letter.id };
    } catch (error) {
      return { ...result, error: `${last.error}; the dead letter could not be stored either: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  return {
    notify(url, event) {
      // deliver() catches every failure itself; this catch is the last guard against an unhandled rejection.
      return deliver(url, event).catch((error: unknown) => ({ id: "", delivered: false, attempts: 0, error: String(error) }));
    },
  };
}
