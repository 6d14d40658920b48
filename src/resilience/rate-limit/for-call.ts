import type { RunRateLimit } from "../../runtime/context.ts";

interface CallTarget {
  model: string;
  provider?: string;
  request?: { messages: readonly unknown[] };
}

/** The rate-limit key of a model: `model:<provider>:<name>` ("model:openai-compatible:gpt-4o-mini"). */
export function modelRateKey(target: CallTarget): string {
  return `model:${target.provider ?? "model"}:${target.model}`;
}

/** The estimate a request reserves in token buckets: its prompt plus room for the answer. */
function estimatedTokens(target: CallTarget): number {
  return Math.ceil(JSON.stringify(target.request?.messages ?? []).length / 4) + 256;
}

/** Waits for room for one request (and its estimated tokens) under the model's and the run's keys. */
export async function waitForRateLimit(rate: RunRateLimit, target: CallTarget, signal: AbortSignal | undefined): Promise<void> {
  await rate.limiter.acquire({
    keys: [modelRateKey(target), ...(rate.keys ?? [])],
    tokens: estimatedTokens(target),
    ...(rate.priority ? { priority: rate.priority } : {}),
    ...(rate.deadlineMs ? { deadlineMs: rate.deadlineMs } : {}),
    ...(signal ? { signal } : {}),
  });
}

/** Corrects the token buckets with what the call really used. */
export function settleRateLimit(rate: RunRateLimit, target: CallTarget, usedTokens: number): void {
  const estimate = estimatedTokens(target);
  rate.limiter.settle([modelRateKey(target), ...(rate.keys ?? [])], usedTokens || estimate, estimate);
}

/** Lets a failed call's rate-limit headers (x-ratelimit-*) lower the model's buckets. */
export function observeRateLimitFailure(rate: RunRateLimit, target: CallTarget, error: unknown): void {
  const headers = (error as { headers?: Record<string, string | undefined> | Headers } | undefined)?.headers;
  if (headers) rate.limiter.observeHeaders(modelRateKey(target), headers);
}
