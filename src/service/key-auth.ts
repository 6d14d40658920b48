import type { FastifyRequest } from "fastify";
import { ApiKeyError, KeyStoreUnavailableError, hasScope } from "./auth/keys.ts";
import type { KeyStore, Principal, Scope } from "./auth/keys.ts";
import type { KeyLimits } from "./auth/limits.ts";
import { HttpError, allowEveryone } from "./server.ts";
import type { Authenticate } from "./server.ts";

/** A 429 that says when to come back (`Retry-After`). */
export class RetryLaterError extends HttpError {
  constructor(
    message: string,
    readonly retryAfterSec?: number,
  ) {
    super(429, "RATE_LIMITED", message);
  }
}

/** Which scope a route needs: starting and watching runs is "run", deciding is "approve", operations data is "admin". */
export function scopeFor(method: string, url: string): Scope | undefined {
  const path = url.split("?")[0]!;
  if (/^\/runs\/[^/]+\/(approve|reject)$/.test(path) || path === "/approvals") return "approve";
  if (path === "/metrics" || path === "/ready" || path.startsWith("/dead-letters")) return "admin";
  if (path.startsWith("/runs")) return "run";
  return method === "GET" && (path === "/graphs" || path === "/openapi.json") ? undefined : "run";
}

/**
 * The service's API-key check: `Authorization: Bearer ck_…` (or `x-api-key`), verified against the
 * hashed key store, the route's scope required, and the key's rate limit and quota applied (429
 * with Retry-After). With no active keys, the service is open (`conclave serve` then binds to
 * 127.0.0.1 and says so). `store` is the SQLite `ApiKeyStore` or, for servers on several machines,
 * `PostgresApiKeyStore`; a store that cannot answer is a 503, not an open door. `limits` is this
 * process's `ApiKeyLimits` or, behind a load balancer, `RedisApiKeyLimits`, whose
 * `LimitStoreUnavailableError` (status 503) propagates likewise.
 *
 * A request with a valid key costs one store read (the key's row); "are any keys active?" is only
 * asked when the request has no valid key, to choose between 401 and letting it in.
 */
export function apiKeyAuthenticate(store: KeyStore, limits: KeyLimits): Authenticate {
  return async (request: FastifyRequest) => {
    try {
      const header = request.headers.authorization;
      const key = typeof header === "string" && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, "").trim() : (request.headers["x-api-key"] as string | undefined);
      let principal: Principal | undefined;
      let invalid: ApiKeyError | undefined;
      if (key) {
        try {
          principal = await store.verify(key);
        } catch (error) {
          if (!(error instanceof ApiKeyError)) throw error;
          invalid = error;
        }
      }
      if (!principal) {
        if (!(await store.hasActiveKeys())) return allowEveryone(request);
        if (invalid) return new HttpError(401, "API_KEY_INVALID", invalid.message);
        return new HttpError(401, "API_KEY_MISSING", "This service needs an API key: send Authorization: Bearer ck_… (create one with conclave keys create --scopes run).");
      }
      const scope = scopeFor(request.method, request.url);
      if (scope && !hasScope(principal, scope)) return new HttpError(403, "SCOPE_MISSING", `API key "${principal.name}" lacks the "${scope}" scope this route needs; create a key with --scopes ${scope}.`);
      const decision = await limits.check(principal);
      if (!decision.ok) return new RetryLaterError(decision.message, decision.reason === "rate-limit" ? decision.retryAfterSec : undefined);
      return { id: principal.name, keyId: principal.id };
    } catch (error) {
      if (error instanceof KeyStoreUnavailableError) return new HttpError(503, error.code, error.message);
      throw error;
    }
  };
}
