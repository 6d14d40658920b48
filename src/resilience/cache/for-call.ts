import type { ConclaveContext } from "../../runtime/context.ts";
import { modelRequestKey } from "./keys.ts";
import { fromStored, toStored } from "./response-cache.ts";

/** What identifies a model request in the cache. */
export interface CacheableCall {
  model: string;
  provider?: string;
  request?: { messages: readonly unknown[]; tools?: readonly unknown[]; parameters?: Record<string, unknown> };
  sampling?: boolean;
}

/** The cache key of a request (model, messages, tools, parameters). */
export function requestKey(call: CacheableCall): string {
  const request = call.request!;
  return modelRequestKey({ provider: call.provider ?? "model", model: call.model, messages: request.messages, ...(request.tools ? { tools: request.tools } : {}), ...(request.parameters ? { parameters: request.parameters } : {}) });
}

/** The key to look a call up by, or nothing when the run has no cache or the call samples (it is then warned about once). */
export function cacheKeyFor(context: ConclaveContext, call: CacheableCall, warnOnce: (key: string, message: string) => void): string | undefined {
  const cache = context.cache;
  if (!cache || !call.request) return undefined;
  if (call.sampling && !cache.cacheSampling) {
    warnOnce("cache-sampling", `The response cache skips calls that sample (model "${call.model}" has no temperature of 0). Set model.temperature to 0, or cache.cacheSampling to true to cache sampled answers.`);
    return undefined;
  }
  return requestKey(call);
}

/** A cache that fails is a cache miss, never a failed call (and a warning). */
export async function readCache(context: ConclaveContext, key: string): Promise<unknown> {
  try {
    const stored = await context.cache!.store.get<Parameters<typeof fromStored>[0]>(key);
    return stored === undefined ? undefined : fromStored(stored);
  } catch (error) {
    context.events?.emit({ type: "warning", message: `The response cache could not be read (${(error as Error).message}); calling the model instead.` });
    return undefined;
  }
}

export async function writeCache(context: ConclaveContext, key: string, output: unknown): Promise<void> {
  const stored = toStored(output);
  if (!stored) return;
  try {
    await context.cache!.store.set(key, stored, context.cache!.ttlMs);
  } catch (error) {
    context.events?.emit({ type: "warning", message: `The response cache could not be written (${(error as Error).message}).` });
  }
}
