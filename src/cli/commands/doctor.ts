import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { LoadedConfig } from "../../config/load.ts";
import { loadConfig } from "../../config/load.ts";
import type { ConclaveConfig, ModelConfig } from "../../config/schema.ts";
import { probeModel } from "../../models/probe.ts";
import { embeddingsProvider } from "../../models/resolve.ts";
import { breakers } from "../../resilience/breakers.ts";
import { createCacheStore } from "../../resilience/cache/create-store.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  latencyMs?: number;
  breaker?: string;
}

/** `conclave doctor`: can a run work here? Providers, breakers, embeddings, cache, folders, dead letters. */
export async function doctorCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("doctor", argv, { json: { type: "boolean" } });
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, ...(values.config ? { file: values.config } : {}) });
  const { config } = loaded;
  const checks: Check[] = [{ name: "config", ok: true, detail: loaded.file ?? "no config file; defaults and environment" }];
  const models = [{ role: "model", settings: config.model }, ...config.fallback.models.map((backup, index) => ({ role: `fallback ${index + 1}`, settings: { ...config.model, provider: backup.provider, name: backup.name, ...(backup.baseUrl ? { baseUrl: backup.baseUrl } : {}), ...(backup.apiKey ? { apiKey: backup.apiKey } : {}) } as ModelConfig }))];
  for (const { role, settings } of models) checks.push(await checkModel(role, settings));
  checks.push(await checkEmbeddings(config));
  checks.push(await checkCache(config, loaded));
  checks.push(...checkFolders(config, loaded.cwd));
  checks.push(checkDeadLetters(resolve(loaded.cwd, config.stateDir, "dlq.sqlite")));
  const ok = checks.every((check) => check.ok);
  if (values.json) io.stdout(`${JSON.stringify({ ok, checks, breakers: breakers.snapshot() })}\n`);
  else {
    for (const check of checks) io.stdout(`${check.ok ? "✔" : "✖"} ${check.name.padEnd(16)} ${check.detail}${check.latencyMs !== undefined ? ` (${check.latencyMs} ms)` : ""}${check.breaker ? ` · breaker ${check.breaker} (after this probe; breakers live in each process)` : ""}\n`);
    io.stdout(ok ? "All checks passed.\n" : "Some checks failed; each line above says what to fix.\n");
  }
  return ok ? 0 : 1;
}

/** The model's endpoint, probed as `probeModel` does (shared with the service's GET /ready). */
async function checkModel(role: string, settings: ModelConfig): Promise<Check> {
  return { name: role, ...(await probeModel(settings)) };
}

async function checkEmbeddings(config: ConclaveConfig): Promise<Check> {
  if (embeddingsProvider(config.embeddings) === "offline") return { name: "embeddings", ok: true, detail: "offline hashing embeddings (no network needed)" };
  const check = await checkModel("embeddings", { ...config.model, provider: "openai", ...(config.embeddings.baseUrl ? { baseUrl: config.embeddings.baseUrl } : {}), ...(config.embeddings.apiKey ? { apiKey: config.embeddings.apiKey } : {}), ...(config.embeddings.name ? { name: config.embeddings.name } : {}) });
  return { ...check, name: "embeddings" };
}

async function checkCache(config: ConclaveConfig, loaded: LoadedConfig): Promise<Check> {
  const settings = config.cache;
  if (settings.backend === "off") return { name: "cache", ok: true, detail: "off" };
  let store: ReturnType<typeof createCacheStore> | undefined;
  try {
    store = createCacheStore({ backend: settings.backend, cwd: loaded.cwd, ...(settings.path ? { path: settings.path } : {}), ...(settings.redisUrl ? { redisUrl: settings.redisUrl } : {}) });
    const started = Date.now();
    await store.set("conclave:doctor", "ok", 10_000);
    const value = await store.get<string>("conclave:doctor");
    await store.delete("conclave:doctor");
    return { name: "cache", ok: value === "ok", detail: `${settings.backend}: ${value === "ok" ? "writes and reads" : "wrote but could not read back"}`, latencyMs: Date.now() - started };
  } catch (error) {
    return { name: "cache", ok: false, detail: `${settings.backend}: ${(error as Error).message}` };
  } finally {
    await store?.close().catch(() => undefined);
  }
}

function checkFolders(config: ConclaveConfig, cwd: string): Check[] {
  const folder = (name: string, path: string | undefined, fix: string): Check => {
    if (path === undefined) return { name, ok: true, detail: "the bundled corpus" };
    const full = resolve(cwd, path);
    const ok = existsSync(full) && statSync(full).isDirectory();
    return { name, ok, detail: ok ? full : `${full} is not a folder. ${fix}` };
  };
  return [folder("corpus", config.corpus, 'Fix "corpus" / CONCLAVE_CORPUS / --corpus.'), folder("workspace", config.workspace, 'Fix "workspace" / CONCLAVE_WORKSPACE.')];
}

function checkDeadLetters(path: string): Check {
  try {
    const queue = new DeadLetterQueue({ path });
    const dead = queue.list("dead").length;
    queue.close();
    return { name: "dead letters", ok: true, detail: dead ? `${dead} waiting — see "conclave dlq list", replay with "conclave dlq replay --all"` : "none" };
  } catch (error) {
    return { name: "dead letters", ok: false, detail: `cannot open .conclave/dlq.sqlite: ${(error as Error).message}` };
  }
}
