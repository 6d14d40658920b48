import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { ApiKeyStore, SCOPES, apiKeyStorePath } from "../../service/auth/keys.ts";
import type { ApiKeyInfo, KeyStore, Scope } from "../../service/auth/keys.ts";
import { PostgresApiKeyStore } from "../../service/auth/postgres-keys.ts";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliIO } from "../output.ts";

const KEYS_OPTIONS = { json: { type: "boolean" }, name: { type: "string" }, scopes: { type: "string" }, rpm: { type: "string" }, quota: { type: "string" }, store: { type: "string" } } as const;

/** Which key store a command uses: the machine's SQLite file, or PostgreSQL shared by several machines. */
export type KeyStoreChoice = { kind: "sqlite" } | { kind: "postgres"; databaseUrl: string };

/**
 * The key store for `command`: the flag (`--store` / `--key-store`), else CONCLAVE_KEY_STORE, else
 * `fallback`. Postgres needs DATABASE_URL; a missing one or an unknown kind is a usage error (exit 2).
 */
export function keyStoreChoice(command: string, flag: { name: string; value: string | undefined }, env: NodeJS.ProcessEnv, fallback: KeyStoreChoice["kind"]): KeyStoreChoice {
  const kind = flag.value ?? (env.CONCLAVE_KEY_STORE || undefined) ?? fallback;
  if (kind === "sqlite") return { kind };
  if (kind !== "postgres") throw new UsageError(`conclave ${command}: ${flag.value !== undefined ? flag.name : "CONCLAVE_KEY_STORE"} is "sqlite" (<stateDir>/keys.sqlite, this machine only) or "postgres" (DATABASE_URL, shared by every server), got "${kind}".`);
  if (!env.DATABASE_URL) throw new UsageError(`conclave ${command}: the postgres key store needs DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/conclave): set it to the database every server shares, or use ${flag.name} sqlite for this machine's keys.`);
  return { kind, databaseUrl: env.DATABASE_URL };
}

/** Opens the chosen store (the SQLite file under `<stateDir>`, or PostgreSQL, connected on first use). */
export function openKeyStore(choice: KeyStoreChoice, cwd: string, stateDir: string): KeyStore {
  return choice.kind === "postgres" ? new PostgresApiKeyStore(choice.databaseUrl) : new ApiKeyStore({ path: apiKeyStorePath(cwd, stateDir) });
}

/**
 * `conclave keys create | list | revoke ID [--store sqlite|postgres]`: the API keys `conclave serve`
 * accepts, kept (as hashes) in `<stateDir>/keys.sqlite` or, with `--store postgres` /
 * CONCLAVE_KEY_STORE=postgres, in DATABASE_URL for servers on several machines. `create` prints the
 * new key as its last line of stdout, the only time it is ever shown.
 */
export async function keysCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs("keys", argv, KEYS_OPTIONS);
  const [action, id] = positionals;
  if (action !== "create" && action !== "list" && action !== "revoke") {
    throw new UsageError(`conclave keys: unknown action ${action === undefined ? "(none)" : `"${action}"`}. Use create --name N --scopes S, list or revoke ID — see "conclave keys --help".`);
  }
  // Checked before the store is opened, so a typo never creates a file.
  const create = action === "create" ? createOptions(values) : undefined;
  if (action === "revoke" && !id) throw new UsageError('conclave keys revoke: missing the id. Run "conclave keys list" to see the ids.');
  const choice = keyStoreChoice("keys", { name: "--store", value: values.store }, io.env, "sqlite");
  const { config, cwd } = await loadConfig({ cwd: io.cwd, env: io.env, ...(values.config ? { file: values.config } : {}) });
  const store = openKeyStore(choice, cwd, config.stateDir);
  try {
    if (create) {
      const { id: created, key } = await store.createKey(create);
      io.stderr(`Created API key ${created} ("${create.name}", scopes ${create.scopes.join(", ")}). It is shown once, below: store it now; only its hash is kept.\n`);
      io.stdout(`${key}\n`);
    } else if (action === "list") {
      const keys = await store.list();
      if (values.json) io.stdout(`${JSON.stringify(keys)}\n`);
      else if (keys.length === 0) io.stdout('No API keys. Make one with "conclave keys create --name N --scopes run".\n');
      else for (const key of keys) io.stdout(`${line(key)}\n`);
    } else {
      await store.revoke(id!);
      io.stdout(`Revoked ${id}.\n`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

function createOptions(values: { name?: string; scopes?: string; rpm?: string; quota?: string }): { name: string; scopes: Scope[]; rateLimit?: { requestsPerMinute: number }; quota?: { requests: number } } {
  if (!values.name?.trim()) throw new UsageError('conclave keys create: missing --name (who or what uses the key), e.g. --name ci.');
  if (values.scopes === undefined) throw new UsageError(`conclave keys create: missing --scopes. Allowed scopes: ${SCOPES.join(", ")} (admin implies the others), e.g. --scopes run,approve.`);
  const scopes = values.scopes.split(",").map((scope) => scope.trim()).filter(Boolean);
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) throw new UsageError(`conclave keys create: ${unknown.length ? `unknown scope ${unknown.map((scope) => `"${scope}"`).join(", ")}` : "--scopes is empty"}. Allowed scopes: ${SCOPES.join(", ")} (admin implies the others).`);
  const rpm = positiveInteger("keys create", "rpm", values.rpm);
  const quota = positiveInteger("keys create", "quota", values.quota);
  return { name: values.name.trim(), scopes: scopes as Scope[], ...(rpm !== undefined ? { rateLimit: { requestsPerMinute: rpm } } : {}), ...(quota !== undefined ? { quota: { requests: quota } } : {}) };
}

function line(key: ApiKeyInfo): string {
  const limits = [key.rateLimit ? `${key.rateLimit.requestsPerMinute}/min` : "", key.quota ? `quota ${key.quota.requests}` : ""].filter(Boolean).join(", ");
  const status = key.revokedAt !== undefined ? `revoked ${new Date(key.revokedAt).toISOString()}` : "active";
  return `${key.id}  ${status.padEnd(8)}  ${new Date(key.createdAt).toISOString()}  ${key.name}  [${key.scopes.join(",")}]${limits ? `  ${limits}` : ""}`;
}
