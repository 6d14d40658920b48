import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openWorkspace } from "../src/cli/workspace.ts";
import { ApiKeyStore } from "../src/service/auth/keys.ts";
import { ApiKeyLimits } from "../src/service/auth/limits.ts";
import { apiKeyAuthenticate } from "../src/service/key-auth.ts";
import { createService } from "../src/service/server.ts";
import type { Service } from "../src/service/server.ts";
import { ROOT, cleanEnv } from "./helpers/cli.ts";

let service: Service | undefined;
let keys: ApiKeyStore | undefined;
afterEach(async () => {
  await service?.close(1_000);
  await service?.queue["workspace"].close();
  keys?.close();
});

async function secured() {
  const workspace = await openWorkspace({ stdout: () => {}, stderr: () => {}, env: cleanEnv(), cwd: ROOT });
  keys = new ApiKeyStore({ path: join(mkdtempSync(join(tmpdir(), "conclave-keys-")), "keys.sqlite") });
  const runner = keys.createKey({ name: "runner", scopes: ["run"], rateLimit: { requestsPerMinute: 2 } });
  const approver = keys.createKey({ name: "approver", scopes: ["approve"] });
  service = createService({ workspace, authenticate: apiKeyAuthenticate(keys, new ApiKeyLimits()) });
  const call = (method: "GET" | "POST", url: string, key?: string, payload?: unknown) =>
    service!.app.inject({ method, url, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(payload ? { "content-type": "application/json" } : {}) }, ...(payload ? { payload: JSON.stringify(payload) } : {}) });
  return { runner: runner.key, approver: approver.key, call };
}

describe("API keys on conclave serve", () => {
  it("refuses a missing or unknown key (401), a key without the route's scope (403), and a key over its rate limit (429 with Retry-After)", async () => {
    const { runner, approver, call } = await secured();
    const missing = await call("POST", "/runs", undefined, { input: "What is 2 + 2?", graph: "research" });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: "API_KEY_MISSING" } });
    expect((await call("POST", "/runs", "ck_000000000000_nope", { input: "x", graph: "research" })).statusCode).toBe(401);
    const wrongScope = await call("POST", "/runs", approver, { input: "What is 2 + 2?", graph: "research" });
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().error.message).toContain('lacks the "run" scope');
    expect((await call("GET", "/approvals", runner)).statusCode).toBe(403);
    expect((await call("GET", "/approvals", approver)).statusCode).toBe(200);

    expect((await call("POST", "/runs", runner, { input: "What is 2 + 2?", graph: "research" })).statusCode).toBe(202);
    expect((await call("GET", "/runs", runner)).statusCode).toBe(200);
    const limited = await call("POST", "/runs", runner, { input: "What is 3 + 3?", graph: "research" });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: { code: "RATE_LIMITED" } });
    expect(limited.headers["x-request-id"]).toBeTruthy();
    // Liveness needs no key.
    expect((await call("GET", "/health")).statusCode).toBe(200);
  });
});
