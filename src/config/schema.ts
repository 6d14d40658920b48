import { z } from "zod";
import { PollSourceConfigSchema } from "../service/polling/config.ts";

const provider = z.enum(["auto", "offline", "openai"]);

/** The chat model: the embedded offline model, or any OpenAI-compatible endpoint. */
export const ModelConfigSchema = z.strictObject({
  /** `auto` picks `openai` when a base URL or API key is configured, otherwise `offline`. */
  provider: provider.default("auto"),
  /** Model name sent to the provider (default `gpt-4o-mini` for `openai`). */
  name: z.string().min(1).optional(),
  /** OpenAI-compatible endpoint, e.g. `http://127.0.0.1:11434/v1` for Ollama. */
  baseUrl: z.url({ message: "expected a URL such as http://127.0.0.1:8000/v1" }).optional(),
  apiKey: z.string().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** Per-request timeout; a hung provider fails after this long. */
  timeoutMs: z.number().int().positive().default(60_000),
  /** Retries of a failed request (rate limits, 5xx, resets), honouring Retry-After. */
  maxRetries: z.number().int().min(0).max(10).default(2),
});

/** Embeddings for retrieval: deterministic offline hashing, or an OpenAI-compatible endpoint. */
export const EmbeddingsConfigSchema = z.strictObject({
  provider: provider.default("auto"),
  name: z.string().min(1).optional(),
  baseUrl: z.url({ message: "expected a URL such as http://127.0.0.1:8000/v1" }).optional(),
  apiKey: z.string().min(1).optional(),
  dimensions: z.number().int().positive().optional(),
});

const PriceSchema = z.strictObject({
  /** USD per million input tokens. */
  input: z.number().min(0),
  /** USD per million output tokens. */
  output: z.number().min(0),
});

/** Prices per model (USD per million tokens), merged over the built-in table; `default` prices unknown models. */
export const PricingConfigSchema = z.strictObject({
  models: z.record(z.string().min(1), PriceSchema).default({}),
  default: PriceSchema.optional(),
});

/** Retries, timeouts and circuit breakers for model calls (`model.maxRetries` / `model.timeoutMs` set the per-call ones). */
export const ResilienceConfigSchema = z.strictObject({
  baseDelayMs: z.number().int().positive().optional(),
  maxDelayMs: z.number().int().positive().optional(),
  maxRetryAfterMs: z.number().int().positive().optional(),
  retryBudget: z.number().int().min(0).optional(),
  breaker: z.strictObject({ failureThreshold: z.number().int().positive().optional(), cooldownMs: z.number().int().positive().optional() }).optional(),
});

/** The response and embedding cache. Off by default; `redis` reads REDIS_URL. */
export const CacheConfigSchema = z.strictObject({
  backend: z.enum(["off", "memory", "sqlite", "redis"]).default("off"),
  ttlMs: z.number().int().positive().optional(),
  /** Also cache model calls that sample (temperature above zero). */
  cacheSampling: z.boolean().default(false),
  /** SQLite file (default `.conclave/cache.sqlite`). */
  path: z.string().min(1).optional(),
  redisUrl: z.string().min(1).optional(),
});

/** Requests and tokens per minute for a rate-limit key ("model:openai-compatible:gpt-4o-mini", "model:*", "user:alice"). */
const LimitSchema = z.strictObject({ requestsPerMinute: z.number().positive().optional(), tokensPerMinute: z.number().positive().optional() });
const QuotaSchema = z.strictObject({ requests: z.number().int().min(0).optional(), tokens: z.number().int().min(0).optional() });

/** What answers when the model fails for good: backup models in order, then the cache, then a template. */
export const FallbackConfigSchema = z.strictObject({
  models: z.array(z.strictObject({
    name: z.string().min(1),
    /** "offline" makes the built-in model the last resort: it never fails for want of a network. */
    provider: z.enum(["openai", "offline"]).default("openai"),
    baseUrl: z.url().optional(),
    apiKey: z.string().min(1).optional(),
  })).default([]),
  useCache: z.boolean().default(false),
  template: z.string().min(1).optional(),
});

/** Where run state is checkpointed: SQLite under `.conclave/` (default), PostgreSQL (`DATABASE_URL`) or memory (not resumable). */
export const CheckpointConfigSchema = z.strictObject({
  backend: z.enum(["sqlite", "postgres", "memory"]).default("sqlite"),
  /** SQLite file (default `<stateDir>/checkpoints.sqlite`). */
  path: z.string().min(1).optional(),
  /** PostgreSQL connection string (default: `DATABASE_URL`). */
  url: z.string().min(1).optional(),
});

/** Structured JSON logs (pino): a level, and where they go ("-" for stderr; pretty there on a terminal). */
export const LogConfigSchema = z.strictObject({
  level: z.enum(["off", "debug", "info", "warn", "error"]).default("info"),
  /** Default `<stateDir>/conclave.log`. */
  file: z.string().min(1).optional(),
});

/** The append-only, hash-chained audit log of side effects, approvals, configuration changes and data access. */
export const AuditConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Default `<stateDir>/audit.jsonl`. */
  path: z.string().min(1).optional(),
});

/**
 * Polling sources `conclave serve` turns into runs: a folder of documents, or a JSON feed over HTTP.
 * Names must be unique: each keys the source's saved state and its runs' idempotency keys.
 */
export const PollersConfigSchema = z
  .array(PollSourceConfigSchema, { error: 'must be a list of poll sources, e.g. [{ "type": "folder", "name": "inbox", "path": "inbox" }]' })
  .superRefine((sources, context) => {
    const names = new Set<string>();
    sources.forEach((source, index) => {
      if (names.has(source.name)) context.addIssue({ code: "custom", path: [index, "name"], message: `"${source.name}" names two poll sources; give each its own name (it keys the saved state)` });
      names.add(source.name);
    });
  });

/** The whole configuration, as read from `conclave.config.json` / `.ts`, environment and flags. */
export const ConfigSchema = z.strictObject({
  model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
  embeddings: EmbeddingsConfigSchema.default(EmbeddingsConfigSchema.parse({})),
  /** Graph registry: name → `./path/to/file.ts:exportName`. Merged over the `graphs` map of `registry`. */
  graphs: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Eval suite registry: name → `./path/to/suite.ts:exportName` (see `conclave eval list`). */
  suites: z.record(z.string().min(1), z.string().min(1)).default({}),
  /** Judge models for model-graded scorers (default: the run's model). */
  evals: z.strictObject({ judges: z.array(z.string().min(1)).default([]), concurrency: z.number().int().positive().default(4) }).default({ judges: [], concurrency: 4 }),
  /** A `langgraph.json` whose `graphs` map also registers graphs. */
  registry: z.string().min(1).default("langgraph.json"),
  /** The graph `conclave run` uses without `--graph` (default: the first registered graph). */
  defaultGraph: z.string().min(1).optional(),
  /** Folder of text/Markdown files for the `retrieve` tool instead of the bundled corpus. */
  corpus: z.string().min(1).optional(),
  /** Root folder the `read_file` tool may read. */
  workspace: z.string().min(1).default("."),
  pricing: PricingConfigSchema.default(PricingConfigSchema.parse({})),
  resilience: ResilienceConfigSchema.default({}),
  cache: CacheConfigSchema.default(CacheConfigSchema.parse({})),
  /** Token buckets by key; `model:<provider>:<name>` keys (provider "openai-compatible" or "offline"), or `model:*`, limit each model. */
  rateLimits: z.record(z.string().min(1), LimitSchema).default({}),
  fallback: FallbackConfigSchema.default(FallbackConfigSchema.parse({})),
  /** Hard caps per key for the life of the process (a service's per-key quotas). */
  quotas: z.record(z.string().min(1), QuotaSchema).default({}),
  checkpoint: CheckpointConfigSchema.default(CheckpointConfigSchema.parse({})),
  log: LogConfigSchema.default(LogConfigSchema.parse({})),
  audit: AuditConfigSchema.default(AuditConfigSchema.parse({})),
  /** Folder of the run state: threads and effect ledger (runs.sqlite), checkpoints, the log and the audit log, unless set one by one. */
  stateDir: z.string().min(1).default(".conclave"),
  /** Pause every run for approval of its final answer (graphs that call `approveAnswer`). */
  approveAnswer: z.boolean().default(false),
  /** A dotenv file of secrets (default `.conclave/secrets.env`): API keys are read from the environment or this file only. */
  secretsFile: z.string().min(1).optional(),
  /** Folders and JSON feeds whose new or changed items `conclave serve` submits as runs (relative paths from the workspace). */
  pollers: PollersConfigSchema.default([]),
});

export type ConclaveConfig = z.output<typeof ConfigSchema>;
export type ConclaveConfigInput = z.input<typeof ConfigSchema>;
export type ModelConfig = ConclaveConfig["model"];
export type EmbeddingsConfig = ConclaveConfig["embeddings"];

/**
 * Typed helper for `conclave.config.ts`.
 * @example export default defineConfig({ model: { provider: "openai", name: "gpt-4o-mini" } });
 */
export function defineConfig(config: ConclaveConfigInput): ConclaveConfigInput {
  return config;
}
