import { createHash } from "node:crypto";
import { parsePollSourceConfig, parsePollSourceConfigs, type PollSourceConfig, type PollSourceConfigInput } from "./config.ts";
import { folderSource } from "./folder-source.ts";
import { httpJsonSource } from "./http-source.ts";
import type { PollStateStore } from "./state.ts";
import type { PollSource, SourceBatch } from "./types.ts";

/** A new or changed item, handed to `submit` to become a run. */
export interface PolledItem {
  /** The source's name. */
  source: string;
  itemId: string;
  /** sha256 of the item's content (the run input for HTTP items, the file bytes for files). */
  hash: string;
  input: string;
  /** The source's graph, when it names one; otherwise the service's default. */
  graph?: string;
  /**
   * `poll:<source>:<itemId>:<hash>`: the same item version always gets the same key, so a queue
   * honouring idempotency keys starts one run per version even when two pollers race. When that
   * would exceed 200 characters, the item id is replaced by `~` and 32 hex digits of its sha256.
   */
  idempotencyKey: string;
}

/** What one poll did. `fetched` = `submitted` + `unchanged` + `failed` + `pending`. */
export interface PollResult {
  source: string;
  /** Items the source listed. */
  fetched: number;
  submitted: number;
  /** Already submitted with this hash. */
  unchanged: number;
  /** Unusable items and items whose submit threw; the latter are retried next poll. */
  failed: number;
  /** Present but not ready (a file modified less than `minAgeMs` ago). */
  pending: number;
  /** Why the source could not be read (fetch or state error); nothing after it was done. */
  error?: string;
  durationMs: number;
}

export interface PollLogEntry {
  level: "info" | "warn" | "error";
  source: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface PollerOptions {
  /** Validated here, so raw config may be passed; throws `PollerConfigError` when it is bad. */
  source: PollSourceConfigInput | PollSourceConfig;
  state: PollStateStore;
  /** Starts a run. A throw leaves the item unseen, so the next poll offers it again. */
  submit: (item: PolledItem) => Promise<void>;
  log?: (entry: PollLogEntry) => void;
  /** Aborting it stops the poller, as `stop()` does. */
  signal?: AbortSignal;
  /** Clock for file ages and durations (tests). */
  now?: () => number;
  /** Poll on a timer, first right away (default true). False: only `pollOnce()` polls. */
  schedule?: boolean;
  /** The longest wait between polls after repeated failures (default the larger of 5 minutes and the interval). */
  maxBackoffMs?: number;
}

export interface Poller {
  readonly source: PollSourceConfig;
  /** Polls now, after any poll in progress ends (polls never overlap). Never rejects for a source error: see `error`. */
  pollOnce(): Promise<PollResult>;
  /** Stops the timer, aborts a fetch in progress and waits for the poll to end. */
  stop(): Promise<void>;
}

/** Seen items kept for an incremental feed, whose cursor already stops old items coming back. */
const MAX_SEEN_INCREMENTAL = 10_000;

/**
 * Polls one source on its interval and submits each new or changed item once. State is saved
 * after every page, so a restarted poller with the same store does not resubmit what it saw. A
 * failing source or submit is logged and retried with exponential backoff; it never throws into
 * the process. Timers are unref'd, so a poller alone does not keep Node running.
 *
 * @example
 * const poller = startPoller({
 *   source: { type: "folder", name: "inbox", path: "./inbox" },
 *   state: new FilePollStateStore(".conclave/poll-state.json"),
 *   submit: async (item) => { await queue.submit({ graph: item.graph ?? "default", input: item.input, idempotencyKey: item.idempotencyKey }); },
 * });
 * // later: await poller.stop();
 */
export function startPoller(options: PollerOptions): Poller {
  const config = parsePollSourceConfig(options.source);
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const source: PollSource = config.type === "folder" ? folderSource(config, now) : httpJsonSource(config);
  const maxBackoffMs = options.maxBackoffMs ?? Math.max(300_000, config.intervalMs);
  const controller = new AbortController();
  let queue: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  const poll = () => tick({ config, source, state: options.state, submit: options.submit, log, now, signal: controller.signal });

  // Every poll, scheduled or asked for, joins one chain: a poll starts only when the last ended.
  function enqueue(): ReturnType<typeof poll> {
    const next = queue.then(poll);
    queue = next.catch(() => undefined);
    return next;
  }

  function pollOnce(): Promise<PollResult> {
    return enqueue().then(({ result }) => result);
  }

  function scheduleNext(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void enqueue().then(
        ({ result, troubled }) => {
          if (troubled) failures += 1;
          else if (failures > 0) {
            log({ level: "info", source: config.name, message: `recovered after ${failures} troubled poll(s)` });
            failures = 0;
          }
          if (troubled) log({ level: "warn", source: config.name, message: `next poll in ${delay()} ms` });
          scheduleNext(delay());
        },
        // tick() catches everything; this only guards the timer chain against a bug there.
        () => scheduleNext(delay()),
      );
    }, delayMs);
    timer.unref();
  }

  function delay(): number {
    return failures === 0 ? config.intervalMs : Math.min(config.intervalMs * 2 ** failures, maxBackoffMs);
  }

  const onAbort = () => void stop();

  async function stop(): Promise<void> {
    stopped = true;
    options.signal?.removeEventListener("abort", onAbort);
    if (timer !== undefined) clearTimeout(timer);
    controller.abort(new Error("poller stopped"));
    await queue;
  }

  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) void stop();
  else if (options.schedule !== false) scheduleNext(0);
  return { source: config, pollOnce, stop };
}

/** Several pollers sharing one state store and submit; names must be unique. */
export interface PollerGroup {
  pollers: Poller[];
  pollOnce(): Promise<PollResult[]>;
  stop(): Promise<void>;
}

/**
 * Starts one poller per source (validated together: unique names).
 * @throws PollerConfigError naming the bad source and field, before any poller starts.
 */
export function startPollers(sources: ReadonlyArray<PollSourceConfigInput | PollSourceConfig>, options: Omit<PollerOptions, "source">): PollerGroup {
  const pollers = parsePollSourceConfigs(sources).map((source) => startPoller({ ...options, source }));
  return {
    pollers,
    pollOnce: () => Promise.all(pollers.map((poller) => poller.pollOnce())),
    stop: async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
  };
}

interface TickContext {
  config: PollSourceConfig;
  source: PollSource;
  state: PollStateStore;
  submit: (item: PolledItem) => Promise<void>;
  log: (entry: PollLogEntry) => void;
  now: () => number;
  signal: AbortSignal;
}

/** One poll: fetch page after page while the cursor moves, submit what is new, save state. */
async function tick(context: TickContext): Promise<{ result: PollResult; troubled: boolean }> {
  const { config, source, log, now, signal } = context;
  const started = now();
  const result: PollResult = { source: config.name, fetched: 0, submitted: 0, unchanged: 0, failed: 0, pending: 0, durationMs: 0 };
  let troubled = false;
  try {
    const saved = await context.state.load(config.name);
    const seen = new Map(Object.entries(saved.seen));
    let cursor = saved.cursor;
    const maxPages = config.type === "http-json" ? config.maxPagesPerPoll : 1;
    for (let page = 0; page < maxPages; page++) {
      signal.throwIfAborted();
      const batch = await source.fetch({ ...(cursor === undefined ? {} : { cursor }), signal });
      const complete = await submitBatch(context, batch, seen, result);
      troubled ||= !complete;
      forget(batch, seen);
      // A cursor past an item not yet submitted would skip it for good: hold it until it is.
      const advanced = batch.nextCursor !== undefined && batch.nextCursor !== cursor && complete;
      if (advanced) cursor = batch.nextCursor;
      await context.state.save(config.name, { ...(cursor === undefined ? {} : { cursor }), seen: Object.fromEntries(seen) });
      signal.throwIfAborted();
      if (!source.paged || !advanced || batch.items.length === 0) break;
    }
  } catch (error) {
    troubled = true;
    result.error = signal.aborted ? "stopped before the poll finished" : (error as Error).message;
    if (!signal.aborted) log({ level: "error", source: config.name, message: `poll failed: ${result.error}`, details: { error } });
  }
  result.durationMs = now() - started;
  return { result, troubled };
}

/** Submits the batch's new versions; false when one was not submitted (its submit threw, or the poller stopped). */
async function submitBatch(context: TickContext, batch: SourceBatch, seen: Map<string, string>, result: PollResult): Promise<boolean> {
  const { config, log } = context;
  result.fetched += batch.items.length + batch.failures.length + batch.pending.length;
  result.pending += batch.pending.length;
  for (const failure of batch.failures) {
    result.failed += 1;
    log({ level: "warn", source: config.name, message: `skipped ${failure.itemId}: ${failure.reason}`, details: { itemId: failure.itemId } });
  }
  let complete = true;
  for (const item of batch.items) {
    if (seen.get(item.itemId) === item.hash) {
      result.unchanged += 1;
      continue;
    }
    // Stopping mid-batch still saves what was submitted so far (the caller saves, then sees the abort).
    if (context.signal.aborted) return false;
    const polled: PolledItem = { source: config.name, itemId: item.itemId, hash: item.hash, input: item.input, idempotencyKey: idempotencyKey(config.name, item.itemId, item.hash), ...(config.graph === undefined ? {} : { graph: config.graph }) };
    try {
      await context.submit(polled);
    } catch (error) {
      result.failed += 1;
      complete = false;
      log({ level: "error", source: config.name, message: `submitting ${item.itemId} failed, retrying next poll: ${(error as Error).message}`, details: { itemId: item.itemId, error } });
      continue;
    }
    // Re-inserted so the map stays in last-submitted order for trimming.
    seen.delete(item.itemId);
    seen.set(item.itemId, item.hash);
    result.submitted += 1;
    log({ level: "info", source: config.name, message: `submitted ${item.itemId}`, details: { itemId: item.itemId, idempotencyKey: polled.idempotencyKey } });
  }
  return complete;
}

/** Drops deleted items (a snapshot lists everything present), or the oldest beyond the cap (a feed page). */
function forget(batch: SourceBatch, seen: Map<string, string>): void {
  if (batch.snapshot) {
    const present = new Set([...batch.items.map((item) => item.itemId), ...batch.failures.map((failure) => failure.itemId), ...batch.pending]);
    for (const itemId of [...seen.keys()]) if (!present.has(itemId)) seen.delete(itemId);
    return;
  }
  for (const itemId of seen.keys()) {
    if (seen.size <= MAX_SEEN_INCREMENTAL) break;
    seen.delete(itemId);
  }
}

function idempotencyKey(source: string, itemId: string, hash: string): string {
  const key = `poll:${source}:${itemId}:${hash}`;
  return key.length <= 200 ? key : `poll:${source}:~${createHash("sha256").update(itemId).digest("hex").slice(0, 32)}:${hash}`;
}
