import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { resolve } from "node:path";
import { ConclaveError, ConfigError } from "../../errors.ts";
import type { ConclaveErrorOptions } from "../../errors.ts";
import type { MaybePromise } from "../../persistence/effects.ts";
import { openSqlite } from "../../resilience/sqlite.ts";
import type { SqliteDatabase } from "../../resilience/sqlite.ts";

/** What a key may do. "admin" implies every other scope. */
export type Scope = "run" | "approve" | "admin";
export const SCOPES: readonly Scope[] = ["run", "approve", "admin"];

/** Per-key limits, enforced by `ApiKeyLimits` (requests per minute, and a cap on requests). */
export interface KeyLimits {
  rateLimit?: { requestsPerMinute: number };
  quota?: { requests: number };
}

/** Who a verified key belongs to: what the service checks scopes and limits against. */
export interface Principal extends KeyLimits {
  id: string;
  name: string;
  scopes: Scope[];
}

/** A key as `list()` shows it: everything but the secret, which is never stored. */
export interface ApiKeyInfo extends Principal {
  createdAt: number;
  revokedAt?: number;
}

export interface CreateKeyOptions extends KeyLimits {
  name: string;
  scopes: Scope[];
}

/** The request carried no key, or one that is malformed, unknown or revoked (HTTP 401). */
export class ApiKeyError extends ConclaveError {
  override name = "ApiKeyError";
  readonly status = 401;
  constructor(options?: ConclaveErrorOptions) {
    super("API_KEY_INVALID", "user", "unknown or revoked API key. Send a key made with \"conclave keys create\" as \"Authorization: Bearer ck_…\"; \"conclave keys list\" shows which keys are active.", options);
  }
}

/**
 * Where API keys are kept: `ApiKeyStore` (SQLite, one machine) or `PostgresApiKeyStore` (shared by
 * servers on several machines). Methods may answer synchronously or with a promise; await them.
 */
export interface KeyStore {
  /** Makes a key; the returned `key` is the only copy of the secret. */
  createKey(options: CreateKeyOptions): MaybePromise<{ id: string; key: string }>;
  /** The key's owner and scopes; ApiKeyError for a malformed, unknown or revoked key. */
  verify(key: string): MaybePromise<Principal>;
  /** Refuses the key from now on; ApiKeyNotFoundError for an unknown id. Revoking twice is harmless. */
  revoke(id: string): MaybePromise<ApiKeyInfo>;
  /** Every key, oldest first, without secrets or hashes. */
  list(): MaybePromise<ApiKeyInfo[]>;
  /** Whether any key is not revoked (until one is, the service is open): one cheap query. */
  hasActiveKeys(): MaybePromise<boolean>;
  close(): MaybePromise<void>;
}

/** The key store could not be read (its database is down): requests are refused with 503, never let through. */
export class KeyStoreUnavailableError extends ConclaveError {
  override name = "KeyStoreUnavailableError";
  readonly status = 503;
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("KEY_STORE_UNAVAILABLE", "system", message, options);
  }
}

/** The key is valid but lacks the scope the request needs (HTTP 403). */
export class ForbiddenError extends ConclaveError {
  override name = "ForbiddenError";
  readonly status = 403;
  readonly scope: Scope;
  constructor(principal: Pick<Principal, "id" | "scopes">, scope: Scope) {
    super("FORBIDDEN", "user", `API key ${principal.id} lacks the "${scope}" scope (it has ${principal.scopes.join(", ") || "none"}). Create a key with --scopes ${scope} (or admin) for this request.`, {
      details: { keyId: principal.id, scope, scopes: principal.scopes },
    });
    this.scope = scope;
  }
}

/** `revoke(id)` named a key that does not exist. */
export class ApiKeyNotFoundError extends ConclaveError {
  override name = "ApiKeyNotFoundError";
  readonly status = 404;
  constructor(id: string) {
    super("API_KEY_NOT_FOUND", "user", `No API key with id "${id}". Run "conclave keys list" to see the ids.`, { details: { id } });
  }
}

/** True when the principal holds `scope`, directly or through "admin". */
export function hasScope(principal: Pick<Principal, "scopes">, scope: Scope): boolean {
  return principal.scopes.includes("admin") || principal.scopes.includes(scope);
}

/** Throws ForbiddenError naming the missing scope unless the principal holds it. */
export function requireScope(principal: Pick<Principal, "id" | "scopes">, scope: Scope): void {
  if (!hasScope(principal, scope)) throw new ForbiddenError(principal, scope);
}

/** Where the key store lives: `<stateDir>/keys.sqlite`. */
export function apiKeyStorePath(cwd: string, stateDir: string): string {
  return resolve(cwd, stateDir, "keys.sqlite");
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash BLOB NOT NULL, scopes TEXT NOT NULL,
  rate_limit_rpm INTEGER, quota_requests INTEGER, created_at INTEGER NOT NULL, revoked_at INTEGER)`;

/** One key as both stores keep it (times in epoch milliseconds). */
export interface ApiKeyRow {
  id: string;
  name: string;
  hash: Buffer;
  scopes: string;
  rate_limit_rpm: number | null;
  quota_requests: number | null;
  created_at: number;
  revoked_at: number | null;
}

const KEY_PATTERN = /^ck_([0-9a-f]{12})_([0-9A-Za-z]{32})$/;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Compared against when the id is unknown, so a miss costs the same hash-and-compare as a hit. */
const NO_HASH = Buffer.alloc(32);

/** A new key and the row to store for it (only its hash), after checking name, scopes and limits. */
export function newKeyRow(options: CreateKeyOptions): { key: string; row: ApiKeyRow } {
  const name = options.name.trim();
  if (!name) throw new ConfigError("An API key needs a name (who or what uses it).");
  const scopes = validScopes(options.scopes);
  const rpm = positive("rateLimit.requestsPerMinute", options.rateLimit?.requestsPerMinute);
  const quota = positive("quota.requests", options.quota?.requests);
  const id = randomBytes(6).toString("hex");
  const key = `ck_${id}_${randomBase62(32)}`;
  return { key, row: { id, name, hash: sha256(key), scopes: scopes.join(","), rate_limit_rpm: rpm ?? null, quota_requests: quota ?? null, created_at: Date.now(), revoked_at: null } };
}

/** The id a key names (`ck_<id>_<secret>`), or undefined when the key is malformed. */
export function keyIdOf(key: string): string | undefined {
  return KEY_PATTERN.exec(key.trim())?.[1];
}

/**
 * Checks `key` against its stored row (undefined when the id is unknown) in constant time: the
 * same hash-and-compare runs whether the key is malformed, unknown, wrong or right. Throws
 * ApiKeyError unless the hash matches and the key is not revoked.
 */
export function checkKey(key: string, row: ApiKeyRow | undefined): Principal {
  const id = keyIdOf(key);
  const equal = timingSafeEqual(sha256(id ? key.trim() : ""), row?.hash.length === 32 ? row.hash : NO_HASH);
  if (!id || !row || !equal || row.revoked_at !== null) throw new ApiKeyError({ details: id ? { keyId: id } : {} });
  return toPrincipal(row);
}

/**
 * API keys for `conclave serve`, in SQLite. A key (`ck_<id>_<secret>`) is returned once by
 * `createKey`; only its SHA-256 is stored, and `verify` compares hashes in constant time. The
 * secret has 190 random bits, so a fast hash is enough: there is nothing to brute-force.
 */
export class ApiKeyStore implements KeyStore {
  private readonly db: SqliteDatabase;

  constructor(options: { path: string }) {
    this.db = openSqlite(options.path, SCHEMA, { store: "API key store", instead: "set stateDir (CONCLAVE_STATE_DIR) to a writable folder" });
  }

  /** Makes a key. The returned `key` is the only copy of the secret: show it once, then drop it. */
  createKey(options: CreateKeyOptions): { id: string; key: string } {
    const { key, row } = newKeyRow(options);
    this.db
      .prepare("INSERT INTO api_keys (id, name, hash, scopes, rate_limit_rpm, quota_requests, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(row.id, row.name, row.hash, row.scopes, row.rate_limit_rpm, row.quota_requests, row.created_at);
    return { id: row.id, key };
  }

  /** The key's owner and scopes; ApiKeyError (401) for a malformed, unknown or revoked key. */
  verify(key: string): Principal {
    const id = keyIdOf(key);
    return checkKey(key, id ? this.row(id) : undefined);
  }

  /** Revokes the key at once: `verify` refuses it from now on. Revoking twice is harmless. */
  revoke(id: string): ApiKeyInfo {
    const row = this.row(id);
    if (!row) throw new ApiKeyNotFoundError(id);
    if (row.revoked_at === null) this.db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").run(Date.now(), id);
    return toInfo(this.row(id)!);
  }

  /** Every key, oldest first, without secrets or hashes. */
  list(): ApiKeyInfo[] {
    return (this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all() as ApiKeyRow[]).map(toInfo);
  }

  hasActiveKeys(): boolean {
    return this.db.prepare("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").get() !== undefined;
  }

  close(): void {
    this.db.close();
  }

  private row(id: string): ApiKeyRow | undefined {
    return this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as ApiKeyRow | undefined;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Uniform base62: bytes of 248 and above are dropped, so no character is likelier than another. */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function validScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new ConfigError(`${unknown.length ? `Unknown API key scope ${unknown.map((scope) => `"${scope}"`).join(", ")}` : "An API key needs at least one scope"}. Allowed scopes: ${SCOPES.join(", ")} (admin implies the others).`, { details: { scopes, allowed: SCOPES } });
  }
  return [...new Set(scopes as Scope[])];
}

function positive(field: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`API key ${field} is ${value}; use a positive whole number, or leave it out for no limit.`, { details: { field, value } });
  return value;
}

function toPrincipal(row: ApiKeyRow): Principal {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(",") as Scope[],
    ...(row.rate_limit_rpm !== null ? { rateLimit: { requestsPerMinute: row.rate_limit_rpm } } : {}),
    ...(row.quota_requests !== null ? { quota: { requests: row.quota_requests } } : {}),
  };
}

/** A stored row as `list()` shows it. */
export function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return { ...toPrincipal(row), createdAt: row.created_at, ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}) };
}
