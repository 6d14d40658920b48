import { createWriteStream, mkdirSync } from "node:fs";
import type { WriteStream } from "node:fs";
import { userInfo } from "node:os";
import { dirname, resolve } from "node:path";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { AuditLog, attachAudit, auditConfig } from "../audit/index.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../errors.ts";
import type { LoadConfigOptions, LoadedConfig } from "../config/load.ts";
import type { ConclaveConfig } from "../config/schema.ts";
import { RunEvents } from "../events/emitter.ts";
import { RunMetrics } from "../observability/metrics.ts";
import { attachLogger, createLogger, createTracerProvider, attachTracing } from "../observability/index.ts";
import { createCheckpointer } from "../persistence/checkpointer.ts";
import type { Checkpointer } from "../persistence/checkpointer.ts";
import { SqliteEffectLedger } from "../persistence/effects.ts";
import type { EffectLedger } from "../persistence/effects.ts";
import { PostgresEffectLedger } from "../persistence/postgres-effects.ts";
import { ThreadStore } from "../persistence/thread-store.ts";
import { loadSecrets, redactingSerializer, Redactor } from "../secrets/index.ts";
import type { CliIO } from "./output.ts";

/**
 * Everything a durable CLI command works with, opened once: the configuration (secrets from the
 * environment and the secrets file), the checkpointer, the thread store and effect ledger, the
 * redactor, the audit log and who is acting. `close()` lets go of all of it.
 */
export interface Workspace {
  loaded: LoadedConfig;
  config: ConclaveConfig;
  cwd: string;
  env: NodeJS.ProcessEnv;
  redactor: Redactor;
  threads: ThreadStore;
  /** Beside the checkpoints: in runs.sqlite, or in PostgreSQL when checkpoints are (so every worker sharing them sees every completed call). */
  effects: EffectLedger;
  /** Opened on first use: `conclave runs` never needs it. */
  checkpointer(): Promise<Checkpointer>;
  audit?: AuditLog;
  /** Who acts: `--as`, CONCLAVE_ACTOR, or the OS user. */
  actor: string;
  /** Warnings to show once (e.g. a secrets file others can read). */
  warnings: string[];
  close(): Promise<void>;
}

export interface OpenWorkspaceOptions {
  configFile?: string;
  flags?: LoadConfigOptions["flags"];
  actor?: string;
}

export async function openWorkspace(io: CliIO, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  // The secrets file sits under the environment: an exported variable wins over the file.
  const secrets = loadSecrets({ env: io.env, cwd: io.cwd, ...(io.env.CONCLAVE_SECRETS_FILE ? { file: io.env.CONCLAVE_SECRETS_FILE } : {}) });
  const env = { ...secrets.values, ...io.env };
  const loaded = await loadConfig({ cwd: io.cwd, env, ...(options.configFile ? { file: options.configFile } : {}), ...(options.flags ? { flags: options.flags } : {}) });
  const { config, cwd } = loaded;
  const redactor = new Redactor([...secrets.secretValues, ...[config.model.apiKey, config.embeddings.apiKey].filter((key): key is string => typeof key === "string" && key.length >= 8)]);
  const state = (file: string) => resolve(cwd, config.stateDir, file);
  const threads = new ThreadStore({ cwd, path: state("runs.sqlite") });
  // Opened on first use, like the checkpointer: a missing DATABASE_URL must not stop `conclave runs`.
  let ledger: EffectLedger | undefined;
  const effects = () => (ledger ??= openEffectLedger(config, env, threads));
  const actor = options.actor ?? env.CONCLAVE_ACTOR ?? safeUser();
  const audit = config.audit.enabled ? new AuditLog({ path: config.audit.path ? resolve(cwd, config.audit.path) : state("audit.jsonl"), redact: (text) => redactor.redact(text) }) : undefined;
  let opened: Promise<Checkpointer> | undefined;
  return {
    loaded,
    config,
    cwd,
    env,
    redactor,
    threads,
    get effects() {
      return effects();
    },
    audit,
    actor,
    warnings: secrets.warnings,
    checkpointer: () => (opened ??= createCheckpointer({ ...config.checkpoint, path: config.checkpoint.path ?? state("checkpoints.sqlite") }, { cwd, env, serde: redactingSerializer(new JsonPlusSerializer(), redactor) })),
    async close() {
      threads.close();
      if (ledger instanceof PostgresEffectLedger) await ledger.close().catch(() => undefined);
      if (opened) await (await opened.catch(() => undefined))?.close();
    },
  };
}

/**
 * The effect ledger must be as shared as the checkpoints: workers on several machines resume each
 * other's runs from PostgreSQL, and a per-machine SQLite ledger would let the second one repeat
 * an effect the first already applied.
 */
function openEffectLedger(config: ConclaveConfig, env: NodeJS.ProcessEnv, threads: ThreadStore): EffectLedger {
  if (config.checkpoint.backend !== "postgres") return new SqliteEffectLedger(threads.db);
  const url = config.checkpoint.url ?? env.DATABASE_URL;
  if (!url) throw new ConfigError('checkpoint.backend is "postgres" but no connection string is set for the effect ledger. Set DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/conclave) or checkpoint.url.');
  return new PostgresEffectLedger(url);
}

/** Attaches the workspace's observers to a run's events: logs, traces, the thread store's event log (for `conclave metrics`) and the audit log. Returns a function that detaches and flushes them. */
export function observeRun(workspace: Workspace, events: RunEvents): () => Promise<void> {
  const { config, cwd } = workspace;
  const detach: Array<() => void> = [];
  let logFile: WriteStream | undefined;
  if (config.log.level !== "off") {
    const file = config.log.file ?? resolve(cwd, config.stateDir, "conclave.log");
    let destination: NodeJS.WritableStream | number = 2;
    if (file !== "-") {
      const path = resolve(cwd, file);
      mkdirSync(dirname(path), { recursive: true });
      logFile = createWriteStream(path, { flags: "a" });
      destination = logFile;
    }
    const logger = createLogger({ level: config.log.level, destination, ...(file === "-" ? {} : { pretty: false }), redact: (text) => workspace.redactor.redact(text) });
    detach.push(attachLogger(events, logger));
  }
  const tracing = createTracerProvider(workspace.env);
  if (tracing) detach.push(attachTracing(events, tracing.tracer));
  const keep = (event: Parameters<typeof workspace.threads.addEvent>[0]) => workspace.threads.addEvent(event);
  events.on("event", keep);
  detach.push(() => events.off("event", keep));
  if (workspace.audit) {
    detach.push(attachAudit(events, workspace.audit, workspace.actor));
    auditConfig(workspace.audit, workspace.redactor.redactValue(config), workspace.actor, workspace.loaded.file ?? "defaults and environment");
  }
  return async () => {
    for (const stop of detach) stop();
    await tracing?.shutdown();
    if (logFile) await new Promise<void>((done) => logFile!.end(done));
  };
}

/** Prometheus text for every run this workspace kept. */
export async function workspaceMetrics(workspace: Workspace): Promise<string> {
  const metrics = new RunMetrics();
  for (const event of workspace.threads.events()) metrics.observe(event);
  return metrics.text();
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
