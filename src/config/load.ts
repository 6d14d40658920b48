import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { z } from "zod";
import { ConfigError } from "../errors.ts";
import { ConfigSchema } from "./schema.ts";
import type { ConclaveConfig } from "./schema.ts";

/** Where a setting came from, as `conclave config` shows it. */
export type ConfigSource = "default" | `file:${string}` | `env:${string}` | `flag:${string}`;

export interface LoadedConfig {
  config: ConclaveConfig;
  /** Source of every leaf setting that was set explicitly, by dotted path (`model.name`). */
  sources: Record<string, ConfigSource>;
  /** The config file read, if any. */
  file?: string;
  /** The folder paths in the config are relative to. */
  cwd: string;
}

export interface LoadConfigOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Settings from command-line flags, by dotted path, e.g. `{ "model.name": "gpt-4o" }`. */
  flags?: Record<string, { value: unknown; flag: string }>;
  /** Explicit config file (overrides `CONCLAVE_CONFIG` and the default names). */
  file?: string;
}

type EnvBinding = { path: string; parse: "string" | "number" };

/** Environment variables and the settings they override. */
export const ENV_BINDINGS: Record<string, EnvBinding> = {
  CONCLAVE_PROVIDER: { path: "model.provider", parse: "string" },
  CONCLAVE_MODEL: { path: "model.name", parse: "string" },
  OPENAI_BASE_URL: { path: "model.baseUrl", parse: "string" },
  OPENAI_API_KEY: { path: "model.apiKey", parse: "string" },
  CONCLAVE_TEMPERATURE: { path: "model.temperature", parse: "number" },
  CONCLAVE_TIMEOUT_MS: { path: "model.timeoutMs", parse: "number" },
  CONCLAVE_MAX_RETRIES: { path: "model.maxRetries", parse: "number" },
  CONCLAVE_EMBEDDINGS_PROVIDER: { path: "embeddings.provider", parse: "string" },
  CONCLAVE_EMBEDDINGS_MODEL: { path: "embeddings.name", parse: "string" },
  CONCLAVE_EMBEDDINGS_BASE_URL: { path: "embeddings.baseUrl", parse: "string" },
  CONCLAVE_EMBEDDINGS_API_KEY: { path: "embeddings.apiKey", parse: "string" },
  CONCLAVE_GRAPH: { path: "defaultGraph", parse: "string" },
  CONCLAVE_CORPUS: { path: "corpus", parse: "string" },
  CONCLAVE_CACHE: { path: "cache.backend", parse: "string" },
  REDIS_URL: { path: "cache.redisUrl", parse: "string" },
  CONCLAVE_WORKSPACE: { path: "workspace", parse: "string" },
  CONCLAVE_CHECKPOINT: { path: "checkpoint.backend", parse: "string" },
  CONCLAVE_STATE_DIR: { path: "stateDir", parse: "string" },
  DATABASE_URL: { path: "checkpoint.url", parse: "string" },
  CONCLAVE_LOG_LEVEL: { path: "log.level", parse: "string" },
  CONCLAVE_LOG_FILE: { path: "log.file", parse: "string" },
  CONCLAVE_AUDIT_LOG: { path: "audit.path", parse: "string" },
  CONCLAVE_SECRETS_FILE: { path: "secretsFile", parse: "string" },
};

const DEFAULT_FILES = ["conclave.config.ts", "conclave.config.json"];
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Reads the configuration: schema defaults, then the config file, then environment variables,
 * then flags — each layer overriding the one before. Every bad field is reported with where it
 * came from and what is expected.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const layered: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};

  const file = findConfigFile(cwd, options.file ?? nonEmpty(env.CONCLAVE_CONFIG));
  // Layers: file, then environment, then flags; each `set` records where the value came from.
  if (file) {
    const contents = await readConfigFile(file);
    for (const [path, value] of flatten(contents)) {
      refuseSecret(path, file);
      set(layered, sources, path, value, `file:${file}`);
    }
  }
  applyEnvironment(layered, sources, env);
  for (const [path, { value, flag }] of Object.entries(options.flags ?? {})) {
    if (value !== undefined) set(layered, sources, path, value, `flag:${flag}`);
  }

  const parsed = ConfigSchema.safeParse(layered);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, sources), { details: { issues: parsed.error.issues } });
  return { config: parsed.data, sources, cwd, ...(file ? { file } : {}) };
}

/**
 * The configuration from environment variables alone (no file, no flags), for graphs loaded by
 * other tools. Invalid values raise the same ConfigError as `loadConfig`.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): ConclaveConfig {
  const layered: Record<string, unknown> = {};
  const sources: Record<string, ConfigSource> = {};
  applyEnvironment(layered, sources, env);
  const parsed = ConfigSchema.safeParse(layered);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error, sources));
  return parsed.data;
}

function applyEnvironment(layered: Record<string, unknown>, sources: Record<string, ConfigSource>, env: NodeJS.ProcessEnv): void {
  for (const [name, binding] of Object.entries(ENV_BINDINGS)) {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) continue;
    set(layered, sources, binding.path, binding.parse === "number" ? toNumber(raw) : raw, `env:${name}`);
  }
}

/** A config file is shared and committed; keys in it leak. They come from the environment or the secrets file only. */
function refuseSecret(path: string[], file: string): void {
  if (path.at(-1) !== "apiKey") return;
  const where = path.join(".");
  const variable = where === "model.apiKey" ? "OPENAI_API_KEY" : "an environment variable";
  throw new ConfigError(`${file} sets ${where}: API keys are read only from the environment or the secrets file, never from the config file (which is shared and committed). Remove it, and set ${variable} in the environment or in .conclave/secrets.env (chmod 600).`, { details: { path: where, file } });
}

function findConfigFile(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new ConfigError(`Config file ${path} does not exist. Fix the path in --config / CONCLAVE_CONFIG, or remove it to use ${DEFAULT_FILES.join(" or ")}.`);
    return path;
  }
  return DEFAULT_FILES.map((name) => resolve(cwd, name)).find((path) => existsSync(path));
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let contents: unknown;
  try {
    contents = file.endsWith(".json") ? JSON.parse(readFileSync(file, "utf8")) : ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}. Fix the file (JSON, or a .ts module with a default export).`, { cause: error });
  }
  if (typeof contents !== "object" || contents === null || Array.isArray(contents)) {
    throw new ConfigError(`Config file ${file} must hold an object (for .ts: export default defineConfig({...})).`);
  }
  return contents as Record<string, unknown>;
}

/**
 * Leaves of a config object as key paths. Maps of user-named entries (`graphs`, `pricing.models`)
 * stop one level down, so layers replace them per entry; their names may contain dots ("gpt-4.1").
 */
function* flatten(value: Record<string, unknown>, prefix: string[] = []): Generator<[string[], unknown]> {
  for (const [key, child] of Object.entries(value)) {
    // JSON.parse keeps "__proto__" as an own key; setting it later would reach Object.prototype.
    if (UNSAFE_KEYS.has(key)) continue;
    const path = [...prefix, key];
    const isMap = MAPS.has(path.join("."));
    if (isMap && typeof child === "object" && child !== null) {
      for (const [name, entry] of Object.entries(child)) if (!UNSAFE_KEYS.has(name)) yield [[...path, name], entry];
    } else if (typeof child === "object" && child !== null && !Array.isArray(child)) yield* flatten(child as Record<string, unknown>, path);
    else yield [path, child];
  }
}

const MAPS = new Set(["graphs", "suites", "pricing.models", "rateLimits", "quotas"]);

function set(target: Record<string, unknown>, sources: Record<string, ConfigSource>, path: string | string[], value: unknown, source: ConfigSource): void {
  const keys = typeof path === "string" ? path.split(".") : path;
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
  sources[keys.join(".")] = source;
}

function describeIssues(error: z.ZodError, sources: Record<string, ConfigSource>): string {
  const lines = error.issues.flatMap((issue) => {
    // zod reports unknown keys on their parent object; name each key so its source can be found.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const path = [...issue.path, key].join(".");
        return `  ${path}: Unrecognized key: "${key}" — not a known setting (see "conclave config" for the known ones) [from ${sourceOf(sources, path)}]`;
      });
    }
    const path = issue.path.join(".");
    return [`  ${path || "(root)"}: ${issue.message} [from ${sourceOf(sources, path)}]`];
  });
  // One line, as the CLI promises: the settings, what was wrong and where each came from.
  return `Invalid configuration: ${lines.map((line) => line.trim()).join("; ")}. Fix these settings ("conclave config" shows every setting and where it comes from).`;
}

/**
 * A leaf's source, or the source of the values under it (an unknown object-valued key), or of the
 * list it is in (`pollers.0.intervalMs` comes from wherever `pollers` was set).
 */
function sourceOf(sources: Record<string, ConfigSource>, path: string): ConfigSource {
  const own = sources[path] ?? Object.entries(sources).find(([key]) => key.startsWith(`${path}.`))?.[1];
  if (own) return own;
  const keys = path.split(".");
  for (let length = keys.length - 1; length > 0; length--) {
    const enclosing = sources[keys.slice(0, length).join(".")];
    if (enclosing) return enclosing;
  }
  return "default";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

function toNumber(raw: string): unknown {
  const value = Number(raw);
  return Number.isFinite(value) ? value : raw;
}
