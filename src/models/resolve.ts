import type { Embeddings } from "@langchain/core/embeddings";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { ConclaveConfig, EmbeddingsConfig, ModelConfig } from "../config/schema.ts";
import { configFromEnvironment } from "../config/load.ts";
import type { ModelInfo } from "../events/types.ts";
import { CachedEmbeddings } from "../resilience/cache/cached-embeddings.ts";
import type { CacheStore } from "../resilience/cache/cache-store.ts";
import { createCacheStore } from "../resilience/cache/create-store.ts";
import { OFFLINE_MODEL_NAME, OfflineChatModel } from "./offline/chat-model.ts";
import { OFFLINE_EMBEDDINGS_NAME, OfflineEmbeddings } from "./offline/embeddings.ts";
import { DEFAULT_OPENAI_EMBEDDINGS, DEFAULT_OPENAI_MODEL, createOpenAIChatModel, createOpenAIEmbeddings } from "./openai.ts";

/** A chat model together with the label every result and banner shows for it. */
export interface ResolvedModel {
  model: BaseChatModel;
  info: ModelInfo;
}

/** `auto` means: a configured endpoint or key wins, otherwise the offline model. */
export function effectiveProvider(config: Pick<ModelConfig, "provider" | "baseUrl" | "apiKey">): "offline" | "openai" {
  if (config.provider !== "auto") return config.provider;
  return config.baseUrl || config.apiKey ? "openai" : "offline";
}

/** Builds the chat model the configuration asks for. */
export function createChatModel(config: ModelConfig): ResolvedModel {
  if (effectiveProvider(config) === "offline") {
    return { model: new OfflineChatModel({}), info: { provider: "offline", name: OFFLINE_MODEL_NAME, offline: true } };
  }
  return { model: createOpenAIChatModel(config), info: { provider: "openai-compatible", name: config.name ?? DEFAULT_OPENAI_MODEL, offline: false } };
}

/**
 * Builds the embeddings the configuration asks for. `auto` stays offline unless embeddings are
 * configured themselves (a base URL, key or model name): many chat servers serve no embeddings,
 * so pointing the chat model somewhere must not silently move retrieval there too. With
 * provider `openai`, the chat model's endpoint and key are the fallback.
 */
export function createEmbeddings(config: Pick<ConclaveConfig, "embeddings" | "model"> & { cache?: ConclaveConfig["cache"] }, options: { cwd?: string } = {}): { embeddings: Embeddings; info: ModelInfo } {
  const settings: EmbeddingsConfig = config.embeddings;
  const provider = embeddingsProvider(settings);
  const built =
    provider === "offline"
      ? { embeddings: new OfflineEmbeddings(settings.dimensions ? { dimensions: settings.dimensions } : {}) as Embeddings, info: { provider: "offline", name: OFFLINE_EMBEDDINGS_NAME, offline: true } }
      : { embeddings: createOpenAIEmbeddings(settings, config.model) as Embeddings, info: { provider: "openai-compatible", name: settings.name ?? DEFAULT_OPENAI_EMBEDDINGS, offline: false } };
  // Offline embeddings are cheaper to compute than to look up; provider embeddings are worth caching.
  const cache = config.cache;
  if (!cache || cache.backend === "off" || built.info.offline) return built;
  const store = track(createCacheStore({ backend: cache.backend, ...(cache.ttlMs ? { ttlMs: cache.ttlMs } : {}), ...(cache.path ? { path: cache.path } : {}), ...(cache.redisUrl ? { redisUrl: cache.redisUrl } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) }));
  const identity = { provider: built.info.provider, model: built.info.name, ...(settings.dimensions ? { dimensions: settings.dimensions } : {}) };
  return { embeddings: new CachedEmbeddings(built.embeddings, store, identity, cache.ttlMs), info: built.info };
}

const embeddingStores = new Set<CacheStore>();

function track(store: CacheStore): CacheStore {
  embeddingStores.add(store);
  return store;
}

/** Closes the cache stores embeddings opened (a Redis connection would otherwise keep a CLI process alive). */
export async function closeEmbeddingCaches(): Promise<void> {
  const stores = [...embeddingStores];
  embeddingStores.clear();
  await Promise.all(stores.map((store) => store.close().catch(() => undefined)));
}

/** Where `auto` embeddings go: an OpenAI-compatible endpoint only when embeddings are configured themselves. */
export function embeddingsProvider(settings: EmbeddingsConfig): "offline" | "openai" {
  if (settings.provider !== "auto") return settings.provider;
  return settings.baseUrl || settings.apiKey || settings.name ? "openai" : "offline";
}

/** The label of any chat model, including ones a user built. */
export function describeModel(model: BaseChatModel): ModelInfo {
  if (model instanceof OfflineChatModel) return { provider: "offline", name: OFFLINE_MODEL_NAME, offline: true };
  const named = model as unknown as { model?: unknown; modelName?: unknown };
  const name = typeof named.model === "string" ? named.model : typeof named.modelName === "string" ? named.modelName : model._llmType();
  // ChatOpenAI serves every OpenAI-compatible endpoint; one provider name keeps limits and breakers consistent.
  return { provider: model._llmType() === "openai" ? "openai-compatible" : model._llmType(), name, offline: false };
}

let fromEnvironment: ResolvedModel | undefined;

/**
 * The model for graphs run outside `run()` (for example by LangGraph's own tooling): built once
 * from the environment variables, offline unless an endpoint or key is set.
 */
export function defaultModel(): BaseChatModel {
  fromEnvironment ??= createChatModel(configFromEnvironment().model);
  return fromEnvironment.model;
}
