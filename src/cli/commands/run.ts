import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { RunEvents } from "../../events/emitter.ts";
import { loadGraph, readRegistry } from "../../graph/registry.ts";
import { createChatModel } from "../../models/resolve.ts";
import { run } from "../../runtime/run.ts";
import type { ConclaveConfig } from "../../config/schema.ts";
import { createCacheStore } from "../../resilience/cache/create-store.ts";
import type { ResponseCache } from "../../resilience/cache/response-cache.ts";
import type { FallbackChain } from "../../resilience/fallback.ts";
import { priceTableFrom } from "../../resilience/pricing.ts";
import { RateLimiter } from "../../resilience/rate-limit/index.ts";
import { parseCommandArgs, positiveInteger, positiveNumber } from "../args.ts";
import type { CliIO } from "../output.ts";
import { attachProgress, modelBanner } from "../progress.ts";

const RUN_OPTIONS = {
  graph: { type: "string" },
  model: { type: "string" },
  provider: { type: "string" },
  "base-url": { type: "string" },
  corpus: { type: "string" },
  thread: { type: "string" },
  "step-limit": { type: "string" },
  "max-rounds": { type: "string" },
  agents: { type: "string" },
  aggregate: { type: "string" },
  "max-model-calls": { type: "string" },
  "max-tokens": { type: "string" },
  "max-cost": { type: "string" },
  "max-time": { type: "string" },
  cache: { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

function definedOnly<T extends Record<string, number | undefined>>(values: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: number };
}

/** `conclave run "<task>"`: runs a registered graph and prints its answer (exit 0), or fails with the reason (exit 1). */
export async function runCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("run", argv, RUN_OPTIONS);
  const task = positionals.join(" ").trim();
  if (!task) throw new UsageError(`conclave run: missing the task. Usage: conclave run "<task>" [--graph NAME] — see "conclave run --help".`);
  const stepLimit = positiveInteger("run", "step-limit", values["step-limit"]);
  const options = { ...definedOnly({ maxRounds: positiveInteger("run", "max-rounds", values["max-rounds"]), agents: positiveInteger("run", "agents", values.agents) }), ...(values.aggregate ? { aggregate: values.aggregate } : {}) };
  const maxTime = positiveNumber("run", "max-time", values["max-time"]);
  const budget = definedOnly({
    maxModelCalls: positiveInteger("run", "max-model-calls", values["max-model-calls"]),
    maxTokens: positiveInteger("run", "max-tokens", values["max-tokens"]),
    maxCostUsd: positiveNumber("run", "max-cost", values["max-cost"]),
    maxWallTimeMs: maxTime === undefined ? undefined : maxTime * 1_000,
  });

  const flag = (value: unknown, name: string) => ({ value, flag: `--${name}` });
  const loaded = await loadConfig({
    cwd: io.cwd,
    env: io.env,
    ...(values.config ? { file: values.config } : {}),
    flags: { "cache.backend": flag(values.cache, "cache"), "model.name": flag(values.model, "model"), "model.provider": flag(values.provider, "provider"), "model.baseUrl": flag(values["base-url"], "base-url"), corpus: flag(values.corpus, "corpus") },
  });
  const { config } = loaded;
  const graphName = values.graph ?? config.defaultGraph ?? readRegistry(config, loaded.cwd)[0]?.name ?? "";
  const definition = await loadGraph(graphName, config, loaded.cwd);
  const { model, info } = createChatModel(config.model);
  const endpoint = info.offline ? undefined : (config.model.baseUrl ?? "https://api.openai.com/v1");

  // Build before printing anything, so a configuration problem is the only line on stderr.
  const graph = definition.build({ config, cwd: loaded.cwd, options });
  const cache = openCache(config, loaded.cwd);
  const events = new RunEvents();
  const progress = values.quiet ? undefined : attachProgress(events, io.stderr, { verbose: values.verbose ?? false });
  if (!values.quiet) io.stderr(`${modelBanner(info, endpoint)}\n`);
  try {
    const result = await run(graph, definition.input(task), {
      model: model as BaseChatModel,
      modelInfo: info,
      events,
      graphName,
      signal,
      timeoutMs: config.model.timeoutMs,
      resilience: { ...definedOnly({ baseDelayMs: config.resilience.baseDelayMs, maxDelayMs: config.resilience.maxDelayMs, maxRetryAfterMs: config.resilience.maxRetryAfterMs, retryBudget: config.resilience.retryBudget }), maxRetries: config.model.maxRetries, timeoutMs: config.model.timeoutMs, ...(config.resilience.breaker ? { breaker: definedOnly(config.resilience.breaker) } : {}) },
      pricing: priceTableFrom(config.pricing),
      ...(cache ? { cache } : {}),
      ...fallbackOf(config),
      ...(Object.keys(config.rateLimits).length || Object.keys(config.quotas).length ? { rateLimit: { limiter: new RateLimiter({ limits: config.rateLimits, quotas: config.quotas }) } } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(values.thread ? { threadId: values.thread } : {}),
      ...(stepLimit ? { stepLimit } : {}),
      ...(Object.keys(budget).length ? { budget } : {}),
    });
    const { answer, citations, details } = definition.output(result.state);
    if (values.json) {
      io.stdout(`${JSON.stringify({ answer, citations, graph: graphName, model: info, threadId: result.threadId, usage: result.usage, ...details })}\n`);
    } else {
      io.stdout(`${answer}\n`);
      if (info.offline && !values.quiet) io.stderr(`(answered by the offline model ${info.name}: extractive, from tool results only)\n`);
    }
    return 0;
  } finally {
    progress?.();
    await cache?.store.close();
  }
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
