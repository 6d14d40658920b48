import { z } from "zod";
import { ConclaveError, DefinitionError } from "../errors.ts";

export interface RequestBatcherOptions<I, O> {
  /** Most requests in one call; a full batch is sent at once. */
  maxBatch: number;
  /** Longest the first request of a batch waits for others before a partial batch is sent. */
  maxWaitMs: number;
  /** Answers a batch: one result per item, in the items' order (an embedding request for many texts, one prompt listing several items). */
  call: (items: I[]) => Promise<readonly O[]> | readonly O[];
}

/** What `createRequestBatcher` returns: callers `request` one item each and get their own result. */
export interface RequestBatcher<I, O> {
  /** Queues one item; resolves with its result, or rejects with the error of the batch it was sent in. */
  request(item: I): Promise<O>;
  /** Sends what is waiting now, without waiting for the window; resolves when those batches have settled. */
  flush(): Promise<void>;
  /** Items waiting for their batch to be sent. */
  readonly waiting: number;
  /** Batches sent so far, and the items in them. */
  readonly stats: { readonly calls: number; readonly items: number };
}

/** A batch call answered with a different number of results than it was given items, so no result can be matched to its caller. */
export class BatchResultMismatchError extends ConclaveError {
  override name = "BatchResultMismatchError";
  constructor(items: number, results: unknown) {
    const got = Array.isArray(results) ? `${results.length} results` : `a ${results === null ? "null" : typeof results}`;
    super("BATCH_RESULT_MISMATCH", "user", `The batch call was given ${items} items and returned ${got}. Return an array with exactly one result per item, in the same order.`, { details: { items, results: Array.isArray(results) ? results.length : typeof results } });
  }
}

const OptionsSchema = z.object({
  maxBatch: z.number().int().min(1, "a batch holds at least one item"),
  maxWaitMs: z.number().min(0).finite(),
  call: z.custom<(items: unknown[]) => unknown>((value) => typeof value === "function", "must be a function (items) => results"),
});

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Smart batching: requests made within `maxWaitMs` of each other are combined into one `call`
 * of at most `maxBatch` items — e.g. the parallel branches of a `Send` fan-out each asking for one
 * embedding become one embedding request. Each caller gets the result at its own position; if the
 * call fails (or returns the wrong number of results), every caller in that batch gets the error.
 * Batches are sent as soon as they are full, so a burst of 10 with `maxBatch: 4` makes 3 calls.
 *
 * Nothing in LangChain or LangGraph coalesces independent callers by time (`Runnable.batch` needs
 * all inputs up front), so this is a small DataLoader-style queue. It does not retry: wrap `call`
 * in your resilience policy, or make model calls in it through `observeModelCall`.
 *
 * @example
 * const embed = createRequestBatcher({ maxBatch: 64, maxWaitMs: 10, call: (texts: string[]) => embeddings.embedDocuments(texts) });
 * const vectors = await Promise.all(["a", "b", "c"].map((text) => embed.request(text))); // one embedDocuments call
 */
export function createRequestBatcher<I, O>(options: RequestBatcherOptions<I, O>): RequestBatcher<I, O> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid request batcher: ${z.prettifyError(parsed.error)}. Pass { maxBatch: 16, maxWaitMs: 10, call: (items) => results }.`);
  const { maxBatch, maxWaitMs, call } = options;
  let queue: Array<Waiting<I, O>> = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const inFlight = new Set<Promise<void>>();
  const stats = { calls: 0, items: 0 };

  const send = (batch: Array<Waiting<I, O>>): Promise<void> => {
    stats.calls += 1;
    stats.items += batch.length;
    const settled = (async () => {
      try {
        const results = await call(batch.map((entry) => entry.item));
        if (!Array.isArray(results) || results.length !== batch.length) throw new BatchResultMismatchError(batch.length, results);
        batch.forEach((entry, index) => entry.resolve(results[index] as O));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    })();
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
    return settled;
  };

  // Sends everything waiting, in batches of at most maxBatch.
  const drain = (): Promise<void>[] => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const sent: Promise<void>[] = [];
    while (queue.length) {
      sent.push(send(queue.slice(0, maxBatch)));
      queue = queue.slice(maxBatch);
    }
    return sent;
  };

  return {
    request(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (queue.length >= maxBatch) {
          void drain();
        } else if (timer === undefined) {
          // The window opens with the first waiting request, so no request waits longer than maxWaitMs.
          timer = setTimeout(() => void drain(), maxWaitMs);
        }
      });
    },
    async flush(): Promise<void> {
      drain();
      await Promise.all([...inFlight]);
    },
    get waiting() {
      return queue.length;
    },
    get stats() {
      return { ...stats };
    },
  };
}
