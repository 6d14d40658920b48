import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { resolve } from "node:path";
import { ConclaveError, ConfigError } from "../../errors.ts";
import type { ConclaveErrorOptions } from "../../errors.ts";
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

interface Row {
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

/**
 * API keys for `conclave serve`, in SQLite. A key (`ck_<id>_<secret>`) is returned once by
 * `createKey`; only its SHA-256 is stored, and `verify` compares hashes in constant time. The
 * secret has 190 random bits, so a fast hash is enough: there is nothing to brute-force.
 */
export class ApiKeyStore {
  private readonly db: SqliteDatabase;

  constructor(options: { path: string }) {
    this.db = openSqlite(options.path, SCHEMA, { store: "API key store", instead: "set stateDir (CONCLAVE_STATE_DIR) to a writable folder" });
  }

  /** Makes a key. The returned `key` is the only copy of the secret: show it once, then drop it. */
  createKey(options: CreateKeyOptions): { id: string; key: string } {
    const name = options.name.trim();
    if (!name) throw new ConfigError("An API key needs a name (who or what uses it).");
    const scopes = validScopes(options.scopes);
    const rpm = positive("rateLimit.requestsPerMinute", options.rateLimit?.requestsPerMinute);
    const quota = positive("quota.requests", options.quota?.requests);
    const id = randomBytes(6).toString("hex");
    const key = `ck_${id}_${randomBase62(32)}`;
    this.db
      .prepare("INSERT INTO api_keys (id, name, hash, scopes, rate_limit_rpm, quota_requests, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(id, name, sha256(key), scopes.join(","), rpm ?? null, quota ?? null, Date.now());
    return { id, key };
  }

  /** The key's owner and scopes; ApiKeyError (401) for a malformed, unknown or revoked key. */
  verify(key: string): Principal {
    const match = KEY_PATTERN.exec(key.trim());
    const row = match ? this.row(match[1]!) : undefined;
    const equal = timingSafeEqual(sha256(match ? key.trim() : ""), row?.hash.length === 32 ? row.hash : NO_HASH);
    if (!match || !row || !equal || row.revoked_at !== null) throw new ApiKeyError({ details: match ? { keyId: match[1] } : {} });
    return toPrincipal(row);
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
    return (this.db.prepare("SELECT * FROM api_keys ORDER BY created_at, id").all() as Row[]).map(toInfo);
  }

  close(): void {
    this.db.close();
  }

  private row(id: string): Row | undefined {
    return this.db.prepare("SELECT * FROM api_keys WHERE id = ?").get(id) as Row | undefined;
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

function toPrincipal(row: Row): Principal {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.split(",") as Scope[],
    ...(row.rate_limit_rpm !== null ? { rateLimit: { requestsPerMinute: row.rate_limit_rpm } } : {}),
    ...(row.quota_requests !== null ? { quota: { requests: row.quota_requests } } : {}),
  };
}

function toInfo(row: Row): ApiKeyInfo {
  return { ...toPrincipal(row), createdAt: row.created_at, ...(row.revoked_at !== null ? { revokedAt: row.revoked_at } : {}) };
}
