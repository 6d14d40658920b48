import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigError, RunAbortedError } from "../../errors.ts";
import { QuotaExceededError, RateLimitTimeoutError } from "./errors.ts";
import { RateLimiter } from "./limiter.ts";
import type { AcquireRequest, RateLimiterOptions } from "./limiter.ts";

const MODEL = "model:openai:gpt-4o-mini";

/** A limiter on fake time, and a way to record when each acquisition was granted (ms since start). */
function setup(options: Omit<RateLimiterOptions, "now">) {
  const limiter = new RateLimiter({ ...options, now: () => Date.now() });
  const start = Date.now();
  const granted: Array<{ label: string; at: number }> = [];
  const take = (label: string, request: AcquireRequest) =>
    limiter.acquire(request).then((result) => {
      granted.push({ label, at: Date.now() - start });
      return result;
    });
  return { limiter, granted, take, elapsed: () => Date.now() - start };
}

/** Most grants inside any window of `windowMs` that opens at a grant. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((from) => times.filter((t) => t >= from && t < from + windowMs).length));
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RateLimiter", () => {
  it("lets keys with no matching limit through at once", async () => {
    const { limiter } = setup({ limits: { "model:*": { requestsPerMinute: 1 } } });
    const results = await Promise.all(Array.from({ length: 50 }, () => limiter.acquire({ keys: ["user:alice", "tenant:acme"] })));
    expect(results.every((result) => result.waitedMs === 0)).toBe(true);
    expect(limiter.snapshot()).toEqual([]);
  });

  it("passes a burst up to capacity, then spaces the rest at the refill rate", async () => {
    const { take, granted } = setup({ limits: { "model:*": { requestsPerMinute: 6 } } });
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => take(`#${i + 1}`, { keys: [MODEL] })));
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(40_000);
    await all;
    const times = granted.map((grant) => grant.at);
    expect(times).toEqual([0, 0, 0, 0, 0, 0, 10_000, 20_000, 30_000, 40_000]);
    expect(granted.map((grant) => grant.label)).toEqual(["#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9", "#10"]);
    // Once the burst is spent the sustained rate is the limit: one per 10 s, at most 6 per 60 s.
    const afterBurst = times.slice(6);
    expect(afterBurst.slice(1).map((t, i) => t - afterBurst[i]!)).toEqual([10_000, 10_000, 10_000]);
    expect(busiestWindow(times.filter((t) => t > 0), 60_000)).toBeLessThanOrEqual(6);
    // A token bucket's bound over any window: its capacity plus what refills in the window.
    expect(busiestWindow(times, 60_000)).toBeLessThanOrEqual(6 + 6);
  });

  it("keeps one timer however many callers wait", async () => {
    const { limiter } = setup({ limits: { "model:*": { requestsPerMinute: 1 } } });
    const waits = Array.from({ length: 5 }, () => limiter.acquire({ keys: [MODEL], deadlineMs: 600_000 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(240_000);
    await Promise.all(waits);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reserves estimated tokens and corrects them on settle", async () => {
    const { limiter, take, granted, elapsed } = setup({ limits: { "model:*": { tokensPerMinute: 1_000 } } });
    await take("a", { keys: [MODEL], tokens: 600 });
    const b = take("b", { keys: [MODEL], tokens: 600 }); // 400 left: would wait 12 s for 200 more
    await vi.advanceTimersByTimeAsync(0);
    expect(granted.map((grant) => grant.label)).toEqual(["a"]);
    limiter.settle([MODEL], 300, 600); // "a" used less than estimated: 300 come back
    expect(await b).toEqual({ waitedMs: 0 });
    expect(limiter.snapshot()).toEqual([{ key: MODEL, tokens: { available: 100, capacity: 1_000 } }]);
    limiter.settle([MODEL], 900, 600); // "b" overran by 300: the bucket goes into debt
    expect(limiter.snapshot()[0]?.tokens?.available).toBe(-200);
    const startedAt = elapsed();
    const c = take("c", { keys: [MODEL] }); // no estimate, but must not slip past the debt
    await vi.advanceTimersByTimeAsync(11_999);
    expect(granted.map((grant) => grant.label)).toEqual(["a", "b"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await c).toEqual({ waitedMs: 12_000 });
    expect(elapsed() - startedAt).toBe(12_000);
  });

  it("does not let later small calls starve a large one", async () => {
    const { take, granted } = setup({ limits: { "model:*": { tokensPerMinute: 1_000 } } });
    await take("first", { keys: [MODEL], tokens: 600 });
    const large = take("large", { keys: [MODEL], tokens: 800 }); // 400 there, 400 more in 24 s
    const small = take("small", { keys: [MODEL], tokens: 100 }); // would fit now, but would push "large" back
    await vi.advanceTimersByTimeAsync(30_000);
    await Promise.all([large, small]);
    expect(granted).toEqual([
      { label: "first", at: 0 },
      { label: "large", at: 24_000 },
      { label: "small", at: 30_000 },
    ]);
  });

  it("serves a later high-priority caller before queued normal and batch callers", async () => {
    const { take, granted } = setup({ limits: { "model:*": { requestsPerMinute: 1 } } });
    await take("first", { keys: [MODEL] });
    const deadlineMs = 600_000;
    const queued = [take("batch", { keys: [MODEL], priority: "batch", deadlineMs }), take("normal-1", { keys: [MODEL], deadlineMs }), take("normal-2", { keys: [MODEL], priority: "normal", deadlineMs })];
    await vi.advanceTimersByTimeAsync(10_000);
    queued.push(take("high", { keys: [MODEL], priority: "high", deadlineMs }));
    await vi.advanceTimersByTimeAsync(240_000);
    await Promise.all(queued);
    expect(granted).toEqual([
      { label: "first", at: 0 },
      { label: "high", at: 60_000 },
      { label: "normal-1", at: 120_000 },
      { label: "normal-2", at: 180_000 },
      { label: "batch", at: 240_000 },
    ]);
  });

  it("refuses at once a wait longer than the deadline, naming the key", async () => {
    const { limiter, elapsed } = setup({ limits: { "model:*": { requestsPerMinute: 1 } } });
    await limiter.acquire({ keys: [MODEL, "user:alice"] });
    const error = await limiter.acquire({ keys: [MODEL, "user:alice"], deadlineMs: 5_000 }).catch((caught: unknown) => caught);
    expect(elapsed()).toBe(0);
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect(error).toMatchObject({ code: "RATE_LIMIT_TIMEOUT", category: "user", key: MODEL, waitMs: 60_000, deadlineMs: 5_000 });
    expect((error as Error).message).toContain(`"${MODEL}"`);
    expect((error as Error).message).toMatch(/60\.0 s.*5\.0 s deadline.*Raise deadlineMs.*"model:\*"/);
  });

  it("refuses a call bigger than the limit could ever allow", async () => {
    const { limiter } = setup({ limits: { "model:*": { tokensPerMinute: 1_000 } } });
    const error = await limiter.acquire({ keys: [MODEL], tokens: 5_000, deadlineMs: Infinity }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitTimeoutError);
    expect((error as Error).message).toMatch(/can never let this call through: it needs 5000 tokens but the limit allows 1000/);
  });

  it("refuses a queued caller once a later high-priority caller pushes it past its deadline", async () => {
    const { take, granted } = setup({ limits: { "model:*": { requestsPerMinute: 6 } } });
    for (let i = 0; i < 6; i++) await take(`burst-${i}`, { keys: [MODEL] });
    const normal = take("normal", { keys: [MODEL], deadlineMs: 15_000 }).catch((caught: unknown) => caught);
    await vi.advanceTimersByTimeAsync(1_000);
    const high = take("high", { keys: [MODEL], priority: "high" });
    expect(await normal).toBeInstanceOf(RateLimitTimeoutError);
    await vi.advanceTimersByTimeAsync(9_000);
    await high;
    expect(granted.at(-1)).toEqual({ label: "high", at: 10_000 });
  });

  it("removes an aborted caller so those behind it move up", async () => {
    const { limiter, take, granted } = setup({ limits: { "model:*": { requestsPerMinute: 1 } } });
    await take("first", { keys: [MODEL] });
    const controller = new AbortController();
    const aborted = take("aborted", { keys: [MODEL], signal: controller.signal, deadlineMs: 600_000 }).catch((caught: unknown) => caught);
    const next = take("next", { keys: [MODEL], deadlineMs: 600_000 });
    await vi.advanceTimersByTimeAsync(30_000);
    controller.abort(new Error("user cancelled"));
    expect(await aborted).toBeInstanceOf(RunAbortedError);
    await vi.advanceTimersByTimeAsync(30_000);
    await next;
    expect(granted.map((grant) => grant.label)).toEqual(["first", "next"]);
    expect(granted.at(-1)?.at).toBe(60_000);
    // An already-aborted signal never queues.
    await expect(limiter.acquire({ keys: [MODEL], signal: AbortSignal.abort() })).rejects.toBeInstanceOf(RunAbortedError);
  });

  it("waits until every key has room, without blocking callers on other keys", async () => {
    const { take, granted } = setup({ limits: { "model:*": { requestsPerMinute: 3 }, "user:*": { requestsPerMinute: 2 } } });
    const alice = ["model:a", "user:alice"];
    const bob = ["model:a", "user:bob"];
    await take("alice-1", { keys: alice });
    await take("alice-2", { keys: alice });
    const alice3 = take("alice-3", { keys: alice }); // user:alice is empty: next in 30 s
    await take("bob-1", { keys: bob }); // model:a's last request; bob is not stuck behind alice
    const bob2 = take("bob-2", { keys: bob }); // model:a is empty and alice-3 is queued on it first
    await vi.advanceTimersByTimeAsync(40_000);
    await Promise.all([alice3, bob2]);
    expect(granted).toEqual([
      { label: "alice-1", at: 0 },
      { label: "alice-2", at: 0 },
      { label: "bob-1", at: 0 },
      { label: "alice-3", at: 30_000 },
      { label: "bob-2", at: 40_000 },
    ]);
  });

  it("lowers the budget to what the provider's headers report", async () => {
    const { limiter } = setup({ limits: { "model:*": { requestsPerMinute: 60, tokensPerMinute: 10_000 } } });
    await limiter.acquire({ keys: [MODEL], tokens: 100 });
    limiter.observeHeaders(MODEL, { "X-RateLimit-Remaining-Requests": "0", "x-ratelimit-reset-requests": "2s", "x-ratelimit-remaining-tokens": "5000" });
    expect(limiter.snapshot()).toEqual([{ key: MODEL, requests: { available: 0, capacity: 60 }, tokens: { available: 5_000, capacity: 10_000 } }]);
    const next = limiter.acquire({ keys: [MODEL], tokens: 100 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await next).toEqual({ waitedMs: 2_000 });

    limiter.observeHeaders(MODEL, new Headers({ "x-ratelimit-remaining-tokens": "50", "x-ratelimit-reset-tokens": "1s500ms" }));
    const big = limiter.acquire({ keys: [MODEL], tokens: 3_000 });
    await vi.advanceTimersByTimeAsync(1_500);
    expect(await big).toEqual({ waitedMs: 1_500 });
    // Headers for a key with no limit, or unreadable values, change nothing.
    limiter.observeHeaders("tenant:acme", { "x-ratelimit-remaining-requests": "0" });
    limiter.observeHeaders(MODEL, { "x-ratelimit-remaining-requests": "", "x-ratelimit-remaining-tokens": "lots" });
    expect(limiter.snapshot()).toHaveLength(1);
  });

  it("refuses calls once a key's request quota is used up", async () => {
    const { limiter } = setup({ limits: {}, quotas: { "user:*": { requests: 2 } } });
    await limiter.acquire({ keys: [MODEL, "user:alice"] });
    await limiter.acquire({ keys: [MODEL, "user:alice"] });
    const error = await limiter.acquire({ keys: [MODEL, "user:alice"] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QuotaExceededError);
    expect(error).toMatchObject({ code: "QUOTA_EXCEEDED", key: "user:alice", details: { kind: "requests", quota: 2, used: 2 } });
    expect((error as Error).message).toContain('quotas["user:*"].requests');
    await expect(limiter.acquire({ keys: [MODEL, "user:bob"] })).resolves.toEqual({ waitedMs: 0 });
  });

  it("counts settled tokens, not estimates, against a token quota", async () => {
    const { limiter } = setup({ limits: {}, quotas: { "user:alice": { tokens: 1_000 } } });
    await limiter.acquire({ keys: ["user:alice"], tokens: 400 });
    limiter.settle(["user:alice"], 900, 400);
    await expect(limiter.acquire({ keys: ["user:alice"], tokens: 200 })).rejects.toBeInstanceOf(QuotaExceededError);
    await limiter.acquire({ keys: ["user:alice"], tokens: 100 });
    await expect(limiter.acquire({ keys: ["user:alice"] })).rejects.toMatchObject({ name: "QuotaExceededError", details: { kind: "tokens", used: 1_000 } });
  });

  it("checks the quota again when a queued caller's turn comes", async () => {
    const { limiter } = setup({ limits: { "model:*": { requestsPerMinute: 1 } }, quotas: { "user:alice": { requests: 2 } } });
    const keys = [MODEL, "user:alice"];
    await limiter.acquire({ keys });
    const second = limiter.acquire({ keys, deadlineMs: 600_000 });
    const third = limiter.acquire({ keys, deadlineMs: 600_000 }).catch((caught: unknown) => caught);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await second).toEqual({ waitedMs: 60_000 });
    expect(await third).toBeInstanceOf(QuotaExceededError);
  });

  it("refuses limits and quotas it cannot use", () => {
    expect(() => new RateLimiter({ limits: { "model:*": { requestsPerMinute: 0 } } })).toThrow(ConfigError);
    expect(() => new RateLimiter({ limits: {}, quotas: { "user:*": { tokens: -1 } } })).toThrow(ConfigError);
  });

  it("prefers an exact key, then the longest prefix", async () => {
    const { limiter } = setup({ limits: { "*": { requestsPerMinute: 1 }, "model:*": { requestsPerMinute: 2 }, "model:openai:*": { requestsPerMinute: 3 }, [MODEL]: { requestsPerMinute: 4 } } });
    for (const key of [MODEL, "model:openai:gpt-4o", "model:anthropic:claude", "user:alice"]) await limiter.acquire({ keys: [key] });
    expect(limiter.snapshot().map(({ key, requests }) => [key, requests?.capacity])).toEqual([
      [MODEL, 4],
      ["model:openai:gpt-4o", 3],
      ["model:anthropic:claude", 2],
      ["user:alice", 1],
    ]);
  });
});
