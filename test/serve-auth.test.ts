import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openWorkspace } from "../src/cli/workspace.ts";
import { ApiKeyStore } from "../src/service/auth/keys.ts";
import { ApiKeyLimits } from "../src/service/auth/limits.ts";
import { apiKeyAuthenticate } from "../src/service/key-auth.ts";
import { createService } from "../src/service/server.ts";
import type { Service } from "../src/service/server.ts";
import { createNotifier } from "../src/service/webhooks/outbound.ts";
import { MemoryReplayCache } from "../src/service/webhooks/replay.ts";
import { MemoryIdempotencyStore, WebhookInbox } from "../src/service/webhooks/inbound.ts";
import { signWebhook } from "../src/service/webhooks/sign.ts";
import { verifyWebhook } from "../src/service/webhooks/verify.ts";
import { ROOT, cleanEnv } from "./helpers/cli.ts";

let service: Service | undefined;
let keys: ApiKeyStore | undefined;
afterEach(async () => {
  await service?.close(1_000);
  await service?.workspace.close();
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

describe("run-completed webhooks from conclave serve", () => {
  it("POSTs a signed run.done to the run's callbackUrl, which the receiver verifies", async () => {
    const secret = "whsec_" + Buffer.from("a-shared-secret-of-32-bytes-long!").toString("base64");
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    try {
      const workspace = await openWorkspace({ stdout: () => {}, stderr: () => {}, env: cleanEnv(), cwd: ROOT });
      service = createService({ workspace, notifier: createNotifier({ secret }) });
      const started = await service.app.inject({ method: "POST", url: "/runs", headers: { "content-type": "application/json" }, payload: JSON.stringify({ input: "What is 17 * 23 + 4?", graph: "research", callbackUrl: url }) });
      expect(started.statusCode).toBe(202);
      const deadline = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received).toHaveLength(1);
      const [delivery] = received;
      const verified = await verifyWebhook({ id: String(delivery!.headers["webhook-id"]), timestamp: String(delivery!.headers["webhook-timestamp"]), body: delivery!.body, signatures: String(delivery!.headers["webhook-signature"]) }, { secrets: [secret], replayCache: new MemoryReplayCache() });
      expect(verified.payload).toMatchObject({ type: "run.done", run: { id: started.json().id, status: "done", result: { answer: expect.stringContaining("395") } } });
    } finally {
      receiver.close();
    }
  });
});

describe("inbound webhooks on conclave serve", () => {
  it("starts one run for a signed event; a redelivery, a bad signature and a stale timestamp start none", async () => {
    const secret = "whsec_" + Buffer.from("another-shared-secret-32-bytes!!").toString("base64");
    const workspace = await openWorkspace({ stdout: () => {}, stderr: () => {}, env: cleanEnv(), cwd: ROOT });
    service = createService({ workspace, webhooks: { secrets: [secret], replayCache: new MemoryReplayCache(), inbox: new WebhookInbox({ store: new MemoryIdempotencyStore() }) } });
    const send = (id: string, body: string, timestamp = Math.floor(Date.now() / 1000), signature = signWebhook({ id, timestamp, body }, secret)) =>
      service!.app.inject({ method: "POST", url: "/webhooks/crm", headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature }, payload: body });
    const body = JSON.stringify({ input: "What is 17 * 23 + 4?", graph: "research" });
    const ids = async () => ((await service!.app.inject({ method: "GET", url: "/runs" })).json() as { runs: Array<{ id: string }> }).runs.map((run) => run.id);
    const before = new Set(await ids());
    const first = await send("evt_1", body);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ duplicate: false });
    expect((await send("evt_1", body)).statusCode).toBe(409);
    expect((await send("evt_2", body, undefined, "v1,AAAA")).statusCode).toBe(401);
    expect((await send("evt_3", body, Math.floor(Date.now() / 1000) - 3_600)).statusCode).toBe(401);
    expect((await ids()).filter((id) => !before.has(id))).toEqual([first.json().id]);
  });
});
