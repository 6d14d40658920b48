import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { openWorkspace } from "../src/cli/workspace.ts";
import { createService, HttpError } from "../src/service/server.ts";
import type { Service, ServiceOptions } from "../src/service/server.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { ROOT, cleanEnv } from "./helpers/cli.ts";
import { useFakeServer } from "./helpers/fake-server.ts";
import { mailerModel } from "./helpers/mailer-model.ts";

let fake: FakeOpenAIServer;
useFakeServer((started) => {
  fake = started;
  fake.setFallback({ kind: "respond", handler: mailerModel });
});

const services: Service[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) {
    await service.close(5_000);
    await service.workspace.close();
  }
});

async function start(env: Record<string, string> = {}, options: Omit<ServiceOptions, "workspace"> = {}): Promise<{ url: string; service: Service }> {
  const workspace = await openWorkspace({ stdout: () => {}, stderr: () => {}, env: cleanEnv(env), cwd: ROOT });
  const service = createService({ workspace, ...options });
  services.push(service);
  const url = await service.app.listen({ port: 0, host: "127.0.0.1" });
  return { url, service };
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method, headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers }, ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text && response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text, headers: response.headers };
}

async function until(url: string, id: string, statuses: string[]): Promise<any> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const { body } = await call(url, "GET", `/runs/${id}`);
    if (statuses.includes(body.status)) return body;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`run ${id} never reached ${statuses.join("/")}`);
}

interface Frame {
  id: number;
  event: string;
  data: any;
}

async function readEvents(url: string, id: string, lastEventId?: number): Promise<Frame[]> {
  const response = await fetch(`${url}/runs/${id}/events`, { headers: lastEventId === undefined ? {} : { "last-event-id": String(lastEventId) } });
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("data:"))
    .map((block) => {
      const field = (name: string) => block.split("\n").find((line) => line.startsWith(`${name}: `))!.slice(name.length + 2);
      return { id: Number(field("id")), event: field("event"), data: JSON.parse(field("data")) };
    });
}

describe("conclave serve", () => {
  it("runs the research graph, answers GET /runs/:id, and streams its events over SSE, resumable with Last-Event-ID", async () => {
    const { url } = await start();
    const posted = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research" });
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    expect(posted.body).toMatchObject({ graph: "research", status: "queued" });
    expect(posted.headers.get("x-request-id")).toBeTruthy();
    const done = await until(url, posted.body.id, ["done", "failed"]);
    expect(done.status, done.error).toBe("done");
    expect(done.result.answer.length).toBeGreaterThan(0);

    const frames = await readEvents(url, posted.body.id);
    // The lifecycle frames around the run's own events: queued, running, then the runtime's run-start … run-end, then done.
    expect(frames.filter((frame) => frame.event === "run-status").map((frame) => frame.data.status)).toEqual(["queued", "running", "done"]);
    expect(frames[0]).toMatchObject({ id: 1, event: "run-status", data: { serviceRunId: posted.body.id, graph: "research" } });
    expect(frames[2]!.event).toBe("run-start");
    expect(frames.at(-2)!.event).toBe("run-end");
    expect(frames.map((frame) => frame.id)).toEqual(frames.map((_, index) => index + 1));
    const later = await readEvents(url, posted.body.id, 2);
    expect(later.map((frame) => frame.id)).toEqual(frames.slice(2).map((frame) => frame.id));

    const listed = await call(url, "GET", "/runs");
    expect(listed.body.runs.some((run: { id: string }) => run.id === posted.body.id)).toBe(true);
    const metrics = await call(url, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    for (const line of String(metrics.body).trim().split("\n").filter(Boolean)) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-zA-Z_:][\w:]*(\{[^}]*\})? [-+\d.eE]+(Inf|NaN)?)$/);
    expect(metrics.body).toMatch(/^conclave_runs_total\{graph="research",status="done"\} 1$/m);
  });

  it("pauses the mailroom for two approvals, approves one by id and edits the other", async () => {
    const { url } = await start({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json") });
    const posted = await call(url, "POST", "/runs", { input: "the report is ready", graph: "mailroom" });
    expect(posted.status).toBe(202);
    await until(url, posted.body.id, ["interrupted", "failed"]);
    const approvals = (await call(url, "GET", "/approvals")).body.approvals.filter((item: { runId: string }) => item.runId === posted.body.id);
    expect(approvals.map((item: any) => item.request.args.to).sort()).toEqual(["ana", "bo"]);
    const ana = approvals.find((item: any) => item.request.args.to === "ana");
    const bo = approvals.find((item: any) => item.request.args.to === "bo");

    const tooMany = await call(url, "POST", `/runs/${posted.body.id}/approve`, { edit: { to: "x", body: "y" } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toContain("edit applies to one approval");
    const half = await call(url, "POST", `/runs/${posted.body.id}/approve`, { interruptId: ana.interruptId });
    expect(half.status, JSON.stringify(half.body)).toBe(202);
    const waiting = await until(url, posted.body.id, ["interrupted", "failed", "done"]);
    expect(waiting.pending.map((item: { interruptId: string }) => item.interruptId)).toEqual([bo.interruptId]);

    const edited = await call(url, "POST", `/runs/${posted.body.id}/approve`, { interruptId: bo.interruptId, edit: { to: "bo", body: "edited: the report is late" } });
    expect(edited.status).toBe(202);
    const done = await until(url, posted.body.id, ["done", "failed"]);
    expect(done.status, done.error).toBe("done");
    expect(done.result.answer).toBe("ana: done: sent to ana: the report is ready\nbo: done: sent to bo: edited: the report is late");
    expect((await call(url, "POST", `/runs/${posted.body.id}/reject`, { reason: "late" })).status).toBe(409);
  });

  it("refuses malformed JSON, a missing input and an oversized body with 400 and a clear message; unknown runs are 404", async () => {
    const { url } = await start();
    const malformed = await call(url, "POST", "/runs", "{input:");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe("INVALID_JSON");
    const missing = await call(url, "POST", "/runs", { graph: "research" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(missing.body.error.message).toContain("input");
    const huge = await call(url, "POST", "/runs", { input: "x".repeat(300 * 1024) });
    expect(huge.status).toBe(400);
    expect(huge.body.error.code).toBe("BODY_TOO_LARGE");
    const tooLong = await call(url, "POST", "/runs", { input: "x".repeat(30_000) });
    expect(tooLong.status).toBe(400);
    expect((await call(url, "POST", "/runs", { input: "\u0001\u0002" })).body.error.message).toContain("empty");
    expect((await call(url, "POST", "/runs", { input: "hi", graph: "nope" })).body.error.code).toBe("GRAPH_NOT_FOUND");
    const unknown = await call(url, "GET", "/runs/no-such-run", undefined, { "x-request-id": "req-42" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("RUN_NOT_FOUND");
    expect(unknown.headers.get("x-request-id")).toBe("req-42");
    expect((await call(url, "GET", "/runs/no-such-run/events")).status).toBe(404);
  });

  it("starts one run for one idempotency key, and serves the OpenAPI document, health, readiness and graphs", async () => {
    const { url } = await start();
    const first = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research", idempotencyKey: "k-1" });
    const second = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research", idempotencyKey: "k-1" });
    expect(second.body.id).toBe(first.body.id);
    expect((await call(url, "GET", "/runs")).body.runs.filter((run: { idempotencyKey?: string }) => run.idempotencyKey === "k-1")).toHaveLength(1);
    await until(url, first.body.id, ["done", "failed"]);

    const openapi = await call(url, "GET", "/openapi.json");
    expect(openapi.body.openapi).toBe("3.1.0");
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(["/runs", "/runs/{id}", "/runs/{id}/events", "/runs/{id}/cancel", "/runs/{id}/approve", "/runs/{id}/reject", "/approvals", "/graphs", "/health", "/ready", "/metrics"]));
    expect(openapi.body.paths["/runs"].post.requestBody.content["application/json"].schema.required).toEqual(["input"]);
    expect((await call(url, "GET", "/health")).body).toEqual({ status: "ok" });
    const ready = await call(url, "GET", "/ready");
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checkpointer.ok).toBe(true);
    expect(ready.body.provider).toMatchObject({ offline: true, ok: true });
    expect((await call(url, "GET", "/graphs")).body.graphs.some((graph: { name: string }) => graph.name === "research")).toBe(true);
  });

  it("reports an unreachable provider on /ready without refusing traffic, and a reachable one with its model listed", async () => {
    const down = await start({ OPENAI_BASE_URL: "http://127.0.0.1:9/v1", OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0" });
    const unreachable = await call(down.url, "GET", "/ready");
    expect(unreachable.status).toBe(200);
    expect(unreachable.body.provider).toMatchObject({ name: "fake-model", offline: false, ok: false });
    expect(unreachable.body.provider.detail).toContain("unreachable");
    const up = await start({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model" });
    const reachable = await call(up.url, "GET", "/ready");
    expect(reachable.body.provider).toMatchObject({ ok: true });
    expect(reachable.body.provider.detail).toMatch(/fake-model at .*: reachable/);
  });

  it("conclave serve listens, prints its URL on stderr, and stops cleanly when its signal aborts", async () => {
    let stderr = "";
    const controller = new AbortController();
    const exited = main(["serve", "--port", "0", "--quiet"], { stdout: () => {}, stderr: (text) => void (stderr += text), env: cleanEnv(), cwd: ROOT }, controller.signal);
    for (let attempt = 0; attempt < 100 && !stderr.includes("listening on"); attempt++) await new Promise((done) => setTimeout(done, 50));
    const url = /listening on (http:\/\/[^\s]+)/.exec(stderr)![1]!;
    expect((await call(url, "GET", "/health")).body).toEqual({ status: "ok" });
    controller.abort();
    expect(await exited).toBe(0);
    expect(stderr).toContain("shutting down");
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    const badPort = await main(["serve", "--port", "nope"], { stdout: () => {}, stderr: (text) => void (stderr += text), env: cleanEnv(), cwd: ROOT });
    expect(badPort).toBe(2);
    expect(stderr).toContain("--port needs a port number");
  });

  it("rejects every pending mail with a reason, the model is told, and the SSE stream follows the resumed run live", async () => {
    const { url } = await start({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json") });
    const posted = await call(url, "POST", "/runs", { input: "lunch?", graph: "mailroom" });
    const paused = await until(url, posted.body.id, ["interrupted", "failed"]);
    expect(paused.pending).toHaveLength(2);
    const before = await readEvents(url, posted.body.id);
    expect(before.at(-2)).toMatchObject({ event: "run-end", data: { status: "interrupted" } });
    expect(before.at(-1)).toMatchObject({ event: "run-status", data: { status: "interrupted" } });
    expect((await call(url, "POST", `/runs/${posted.body.id}/reject`, {})).body.error.message).toContain("reason");
    expect((await call(url, "POST", `/runs/${posted.body.id}/reject`, { reason: "not \u0007today" })).status).toBe(202);
    const resumed = await readEvents(url, posted.body.id, before.at(-1)!.id);
    expect(resumed[0]).toMatchObject({ id: before.at(-1)!.id + 1, event: "run-status", data: { status: "queued" } });
    expect(resumed.find((frame) => frame.event === "run-start")).toMatchObject({ data: { resumed: true } });
    expect(resumed.at(-2)).toMatchObject({ event: "run-end", data: { status: "done" } });
    expect(resumed.at(-1)).toMatchObject({ event: "run-status", data: { status: "done" } });
    const done = await until(url, posted.body.id, ["done", "failed"]);
    expect(done.result.answer).toContain('ana: done: The user rejected this call to "send_mail" (not today)');
  });

  it("cancels a queued run, and refuses to cancel one that ended", async () => {
    const { url } = await start({}, { concurrency: 1 });
    const first = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research" });
    const second = await call(url, "POST", "/runs", { input: "What is a checkpoint?", graph: "research" });
    const cancelled = await call(url, "POST", `/runs/${second.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    expect((await until(url, first.body.id, ["done", "failed"])).status).toBe("done");
    expect((await call(url, "GET", `/runs/${second.body.id}`)).body.status).toBe("cancelled");
    const again = await call(url, "POST", `/runs/${first.body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("RUN_ENDED");
    expect((await call(url, "GET", "/runs?status=cancelled")).body.runs.map((run: { id: string }) => run.id)).toEqual([second.body.id]);
  });

  it("asks the pluggable authenticate hook about every request but /health, and keeps the key id on the run", async () => {
    const { url } = await start({}, { authenticate: (request) => (request.headers.authorization === "Bearer good" ? { id: "ci", keyId: "key_1" } : new HttpError(401, "UNAUTHENTICATED", "Send an API key: Authorization: Bearer KEY.")) });
    expect((await call(url, "GET", "/health")).status).toBe(200);
    const refused = await call(url, "POST", "/runs", { input: "hi", graph: "research" });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("UNAUTHENTICATED");
    const accepted = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research" }, { authorization: "Bearer good" });
    expect(accepted.status).toBe(202);
    const run = await call(url, "GET", `/runs/${accepted.body.id}`, undefined, { authorization: "Bearer good" });
    expect(run.body.keyId).toBe("key_1");
    await until2(url, accepted.body.id);
  });

  it("cancels a running run: its model request is aborted and the run ends cancelled", async () => {
    fake.setFallback({ kind: "hang" });
    const { url } = await start({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json") });
    const posted = await call(url, "POST", "/runs", { input: "stuck", graph: "mailroom" });
    await until(url, posted.body.id, ["running"]);
    for (let attempt = 0; attempt < 100 && fake.requests.length === 0; attempt++) await new Promise((done) => setTimeout(done, 20));
    const cancelled = await call(url, "POST", `/runs/${posted.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
    const frames = await readEvents(url, posted.body.id);
    expect(frames.find((frame) => frame.event === "run-start")).toBeTruthy();
    // One "cancelled" status, as the last frame: the stream ends with it.
    expect(frames.filter((frame) => frame.event === "run-status" && frame.data.status === "cancelled")).toHaveLength(1);
    expect(frames.at(-1)).toMatchObject({ event: "run-status", data: { status: "cancelled" } });
  });


  it("a run cut off by a shutdown resumes when the next server starts on the same workspace", async () => {
    fake.setFallback({ kind: "hang" });
    const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json") };
    const first = await start(env);
    const posted = await call(first.url, "POST", "/runs", { input: "the report is ready", graph: "mailroom" });
    await until(first.url, posted.body.id, ["running"]);
    for (let attempt = 0; attempt < 100 && fake.requests.length === 0; attempt++) await new Promise((done) => setTimeout(done, 20));
    services.splice(services.indexOf(first.service), 1);
    await first.service.close(50);
    await first.service.workspace.close();

    fake.setFallback({ kind: "respond", handler: mailerModel });
    const second = await start(env);
    const resumed = await until(second.url, posted.body.id, ["interrupted", "failed", "done"]);
    expect(resumed.status, resumed.error).toBe("interrupted");
    expect(resumed.pending).toHaveLength(2);
  });


  it("logs every request with its x-request-id, and tells onSettled where the run's callback goes", async () => {
    const lines: string[] = [];
    const settled: Array<{ status: string; callbackUrl?: string }> = [];
    const { url } = await start({}, { logger: { level: "info", stream: { write: (line: string) => void lines.push(line) } }, onSettled: (run, request) => void settled.push({ status: run.status, ...request }) });
    const posted = await call(url, "POST", "/runs", { input: "What is LangGraph?", graph: "research", callbackUrl: "https://hooks.example.com/conclave" }, { "x-request-id": "req-7" });
    expect(posted.headers.get("x-request-id")).toBe("req-7");
    await until(url, posted.body.id, ["done", "failed"]);
    expect(lines.map((line) => JSON.parse(line) as { reqId?: string }).filter((line) => line.reqId === "req-7").length).toBeGreaterThanOrEqual(2);
    expect(settled).toEqual([{ status: "done", callbackUrl: "https://hooks.example.com/conclave" }]);
    expect((await call(url, "POST", "/runs", { input: "hi", callbackUrl: "file:///etc/passwd" })).status).toBe(400);
  });

});

async function until2(url: string, id: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const { body } = await call(url, "GET", `/runs/${id}`, undefined, { authorization: "Bearer good" });
    if (["done", "failed"].includes(body.status)) return;
    await new Promise((done) => setTimeout(done, 50));
  }
}
