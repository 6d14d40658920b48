import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DefinitionError } from "../errors.ts";
import { BatchResultMismatchError, createRequestBatcher } from "./request-batching.ts";

describe("request batcher", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("combines 10 requests into 3 calls with maxBatch 4, and routes each result back to its caller", async () => {
    const calls: string[][] = [];
    const batcher = createRequestBatcher({ maxBatch: 4, maxWaitMs: 50, call: async (texts: string[]) => (calls.push(texts), texts.map((text) => text.toUpperCase())) });
    const results = Promise.all(Array.from({ length: 10 }, (_, index) => batcher.request(`t${index}`)));

    // The two full batches go at once; the last two wait for the window.
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([["t0", "t1", "t2", "t3"], ["t4", "t5", "t6", "t7"]]);
    expect(batcher.waiting).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(calls).toHaveLength(3);
    expect(calls[2]).toEqual(["t8", "t9"]);
    expect(await results).toEqual(["T0", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"]);
    expect(batcher.stats).toEqual({ calls: 3, items: 10 });
  });

  it("flushes a partial batch when the wait window closes, and not before", async () => {
    const call = vi.fn((items: number[]) => items.map((item) => item * 2));
    const batcher = createRequestBatcher({ maxBatch: 100, maxWaitMs: 20, call });
    const first = batcher.request(1);
    await vi.advanceTimersByTimeAsync(10);
    const second = batcher.request(2);
    // The window opened with the first request: the second joins it rather than restarting it.
    await vi.advanceTimersByTimeAsync(9);
    expect(call).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(call).toHaveBeenCalledTimes(1);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    // A later request opens a new window.
    const third = batcher.request(5);
    await vi.advanceTimersByTimeAsync(20);
    expect(await third).toBe(10);
    expect(call.mock.calls).toEqual([[[1, 2]], [[5]]]);
  });

  it("fails every caller of a failed batch with its error, and only them", async () => {
    const outage = new Error("embeddings endpoint returned 503");
    let attempt = 0;
    const batcher = createRequestBatcher({ maxBatch: 2, maxWaitMs: 5, call: async (items: string[]) => (++attempt === 1 ? Promise.reject(outage) : items.map((item) => item.length)) });
    const failed = [batcher.request("a"), batcher.request("bb")].map((promise) => promise.catch((error: unknown) => error));
    const fine = [batcher.request("ccc"), batcher.request("dddd")];
    await vi.advanceTimersByTimeAsync(0);
    expect(await Promise.all(failed)).toEqual([outage, outage]);
    expect(await Promise.all(fine)).toEqual([3, 4]);
  });

  it("fails the batch when the call returns the wrong number of results", async () => {
    const batcher = createRequestBatcher({ maxBatch: 3, maxWaitMs: 5, call: (items: string[]) => items.slice(1) });
    const outcomes = Promise.allSettled([batcher.request("a"), batcher.request("b"), batcher.request("c")]);
    await vi.advanceTimersByTimeAsync(0);
    const settled = await outcomes;
    expect(settled.every((outcome) => outcome.status === "rejected" && outcome.reason instanceof BatchResultMismatchError)).toBe(true);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe("The batch call was given 3 items and returned 2 results. Return an array with exactly one result per item, in the same order.");
  });

  it("flush() sends what waits at once and resolves when it settled", async () => {
    const batcher = createRequestBatcher({ maxBatch: 10, maxWaitMs: 60_000, call: async (items: number[]) => items });
    const pending = [batcher.request(1), batcher.request(2)];
    await batcher.flush();
    expect(await Promise.all(pending)).toEqual([1, 2]);
    expect(batcher.stats.calls).toBe(1);
  });

  it("refuses bad options", () => {
    expect(() => createRequestBatcher({ maxBatch: 0, maxWaitMs: 10, call: (items: number[]) => items })).toThrow(DefinitionError);
    expect(() => createRequestBatcher({ maxBatch: 2, maxWaitMs: -1, call: (items: number[]) => items })).toThrow(/maxWaitMs/);
    expect(() => createRequestBatcher({ maxBatch: 2, maxWaitMs: 1, call: undefined as never })).toThrow(/call/);
  });
});
