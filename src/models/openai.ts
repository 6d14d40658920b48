import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { ConfigError } from "../errors.ts";
import type { EmbeddingsConfig, ModelConfig } from "../config/schema.ts";

/** Model used when an OpenAI-compatible provider is configured without a model name. */
export const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
export const DEFAULT_OPENAI_EMBEDDINGS = "text-embedding-3-small";

/** Local servers (Ollama, vLLM, llama.cpp) accept any key, but the client insists on one. */
const PLACEHOLDER_KEY = "not-needed-for-local-servers";

/**
 * A `ChatOpenAI` for OpenAI or any Chat Completions server. Settings measured to matter:
 * `useResponsesApi: false` (some model names silently switch to /v1/responses otherwise),
 * `streaming` left unset — `true` makes it download tiktoken data and stall offline, and `false`
 * disables streaming altogether, while unset lets LangGraph's `messages` mode stream tokens — and
 * explicit retries and timeout (the defaults take ~94 s to fail against a dead endpoint).
 */
export function createOpenAIChatModel(config: ModelConfig): ChatOpenAI {
  return new ChatOpenAI({
    model: config.name ?? DEFAULT_OPENAI_MODEL,
    apiKey: apiKeyFor(config.apiKey, config.baseUrl, "OPENAI_API_KEY"),
    configuration: config.baseUrl ? { baseURL: config.baseUrl } : {},
    useResponsesApi: false,
    // One retry layer: Conclave's resilience policy retries (honouring Retry-After); the client must not.
    maxRetries: 0,
    timeout: config.timeoutMs,
    ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
  });
}

/** OpenAI-compatible embeddings (for `retrieve` when configured). */
export function createOpenAIEmbeddings(config: EmbeddingsConfig, fallback: ModelConfig): OpenAIEmbeddings {
  const baseUrl = config.baseUrl ?? fallback.baseUrl;
  return new OpenAIEmbeddings({
    model: config.name ?? DEFAULT_OPENAI_EMBEDDINGS,
    apiKey: apiKeyFor(config.apiKey ?? fallback.apiKey, baseUrl, "OPENAI_API_KEY"),
    configuration: baseUrl ? { baseURL: baseUrl } : {},
    // Embedding requests do not pass through the model-call policy yet, so the client retries them.
    maxRetries: fallback.maxRetries,
    timeout: fallback.timeoutMs,
    ...(config.dimensions ? { dimensions: config.dimensions } : {}),
  });
}

function apiKeyFor(apiKey: string | undefined, baseUrl: string | undefined, variable: string): string {
  if (apiKey) return apiKey;
  if (baseUrl) return PLACEHOLDER_KEY;
  throw new ConfigError(`The openai provider needs an API key or a base URL. Set ${variable} (hosted OpenAI), or OPENAI_BASE_URL for a local OpenAI-compatible server, or use provider "offline".`);
}
