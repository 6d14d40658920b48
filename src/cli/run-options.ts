import { createChatModel } from "../models/resolve.ts";
import type { ConclaveConfig } from "../config/schema.ts";
import { createCacheStore } from "../resilience/cache/create-store.ts";
import type { ResponseCache } from "../resilience/cache/response-cache.ts";
import type { FallbackChain } from "../resilience/fallback.ts";
import { priceTableFrom } from "../resilience/pricing.ts";
import { RateLimiter } from "../resilience/rate-limit/index.ts";
import type { RunOptions } from "../runtime/run.ts";

/** The reliability and cost options of a run, as the configuration declares them. */
export function reliabilityOptions(config: ConclaveConfig, cwd: string): Pick<RunOptions, "resilience" | "pricing" | "cache" | "fallback" | "rateLimit"> {
  const cache = openCache(config, cwd);
  const limits = Object.keys(config.rateLimits).length || Object.keys(config.quotas).length;
  return {
    resilience: { ...definedOnly({ baseDelayMs: config.resilience.baseDelayMs, maxDelayMs: config.resilience.maxDelayMs, maxRetryAfterMs: config.resilience.maxRetryAfterMs, retryBudget: config.resilience.retryBudget }), maxRetries: config.model.maxRetries, timeoutMs: config.model.timeoutMs, ...(config.resilience.breaker ? { breaker: definedOnly(config.resilience.breaker) } : {}) },
    pricing: priceTableFrom(config.pricing),
    ...(cache ? { cache } : {}),
    ...fallbackOf(config),
    ...(limits ? { rateLimit: { limiter: new RateLimiter({ limits: config.rateLimits, quotas: config.quotas }) } } : {}),
  };
}

export function definedOnly<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** The fallback chain the configuration declares, with each backup model built like the primary. */
function fallbackOf(config: ConclaveConfig): { fallback?: FallbackChain } {
  const settings = config.fallback;
  if (!settings.models.length && !settings.useCache && settings.template === undefined) return {};
  const models = settings.models.map((backup) => createChatModel({ ...config.model, provider: backup.provider, name: backup.name, ...(backup.baseUrl ? { baseUrl: backup.baseUrl } : {}), ...(backup.apiKey ? { apiKey: backup.apiKey } : {}) }));
  return { fallback: { models, useCache: settings.useCache, ...(settings.template ? { template: settings.template } : {}) } };
}

/** The response cache the configuration asks for, if any. */
function openCache(config: ConclaveConfig, cwd: string): ResponseCache | undefined {
  const settings = config.cache;
  if (settings.backend === "off") return undefined;
  const store = createCacheStore({ backend: settings.backend, cwd, ...(settings.ttlMs ? { ttlMs: settings.ttlMs } : {}), ...(settings.path ? { path: settings.path } : {}), ...(settings.redisUrl ? { redisUrl: settings.redisUrl } : {}) });
  return { store, ...(settings.ttlMs ? { ttlMs: settings.ttlMs } : {}), cacheSampling: settings.cacheSampling };
}
