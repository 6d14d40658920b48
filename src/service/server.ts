import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import Fastify from "fastify";
import type { Notifier } from "./webhooks/outbound.ts";
import type { WebhookInbox } from "./webhooks/inbound.ts";
import type { ReplayCache } from "./webhooks/replay.ts";
import { verifyWebhook } from "./webhooks/verify.ts";
import { WebhookVerificationError } from "./webhooks/errors.ts";
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { ApprovalDecision } from "../hitl/decisions.ts";
import { createChatModel } from "../models/resolve.ts";
import { probeModel } from "../models/probe.ts";
import type { ModelProbe } from "../models/probe.ts";
import { RunMetrics } from "../observability/metrics.ts";
import { breakers } from "../resilience/breakers.ts";
import type { Workspace } from "../cli/workspace.ts";
import { readRegistry } from "../graph/registry.ts";
import { MemoryEventBus } from "./events/memory-bus.ts";
import type { ServiceEvent, ServiceEventBus } from "./events/types.ts";
import { LimitStoreUnavailableError } from "./auth/redis-limits.ts";
import { LocalRunQueue, RunStateError } from "./local-queue.ts";
import type { LocalRunQueueOptions } from "./local-queue.ts";
import { openApiDocument } from "./openapi.ts";
import { ApproveBodySchema, BODY_LIMIT_BYTES, ListQuerySchema, RejectBodySchema, RunBodySchema, stripControl } from "./schemas.ts";
import type { RunQueue, ServiceRun } from "./types.ts";
import type { DeadLetterRun } from "./bullmq-queue.ts";

/** Who made a request: an API key's id (never its secret), or "anonymous" when no keys are configured. */
export interface Principal {
  id: string;
  keyId?: string;
}

/** Decides who a request comes from; an `HttpError` (401 / 403) refuses it. The API-key module plugs in here. */
export type Authenticate = (request: FastifyRequest) => Promise<Principal | HttpError> | Principal | HttpError;

/** With no API keys configured, everyone may call the service (bind it to 127.0.0.1). */
export const allowEveryone: Authenticate = () => ({ id: "anonymous" });

export interface ServiceOptions {
  workspace: Workspace;
  concurrency?: number;
  authenticate?: Authenticate;
  /** Fastify's logger: false in tests, or pino options; every line carries the request id. */
  logger?: boolean | FastifyBaseLogger | Record<string, unknown>;
  bodyLimit?: number;
  /** A run stopped (done, failed, cancelled, paused): outbound webhooks to its `callbackUrl` plug in here. */
  onSettled?: LocalRunQueueOptions["onSettled"];
  /** Verifies inbound `POST /webhooks/:source` (HMAC over id.timestamp.body, ±300 s, replay cache) and starts at most one run per event. */
  webhooks?: { secrets: string[]; replayCache: ReplayCache; inbox: WebhookInbox };
  /** Sends a signed `run.<status>` notification to each run's `callbackUrl` when it stops (retried, dead-lettered after the last try). */
  notifier?: Notifier;
  /**
   * Runs executed elsewhere: a queue (BullRunQueue) consumed by `conclave worker` processes, which
   * publish the runs' events on `events` (a RedisEventBus); the SSE endpoint and `/metrics` read it.
   * Omitted: runs execute in this process (LocalRunQueue) with an in-memory bus.
   */
  distributed?: { queue: RunQueue & { counts?(): Promise<Record<string, number>> } & Partial<DeadLetterSource>; events: ServiceEventBus };
}

/** A queue whose failed jobs are the dead letters (BullRunQueue). */
export interface DeadLetterSource {
  deadLetters(options?: { limit?: number }): Promise<DeadLetterRun[]>;
  retryDeadLetter(runId: string): Promise<ServiceRun>;
}

/** An error as the API reports it: `{ error: { code, message } }` with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Service {
  app: FastifyInstance;
  /** The workspace it was built on (the caller closes it after the service). */
  workspace: Workspace;
  queue: RunQueue;
  events: ServiceEventBus;
  /** Stops accepting requests, lets running runs checkpoint, and closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Builds the HTTP service (not listening yet: `app.listen({ port })`, or `app.inject()` in tests). */
export function createService(options: ServiceOptions): Service {
  const { workspace } = options;
  const metrics = new RunMetrics();
  const events: ServiceEventBus = options.distributed?.events ?? new MemoryEventBus();
  // The metrics count what the event stream carries, whichever process ran the run.
  const unsubscribe = events.subscribe((_runId, event: ServiceEvent) => (event.type === "run-status" ? metrics.observeStatus(event) : metrics.observe(event)));
  const queue: RunQueue =
    options.distributed?.queue ??
    new LocalRunQueue({
      workspace,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      publish: (runId, event) => void events.publish(runId, event),
      onSettled: (run, request) => {
        if (request.callbackUrl && options.notifier) void options.notifier.notify(request.callbackUrl, runNotification(run));
        options.onSettled?.(run, request);
      },
    });
  // Probed at most every 30 s: readiness checks come often, and each probe is a request to the provider.
  let probed: { at: number; result: Promise<ModelProbe> } | undefined;
  const providerProbe = () => {
    if (!probed || Date.now() - probed.at > 30_000) probed = { at: Date.now(), result: probeModel(workspace.config.model) };
    return probed.result;
  };
  const graphs = () => readRegistry(workspace.config, workspace.cwd).map(({ name, target }) => ({ name, target }));
  const app = Fastify({
    logger: (options.logger ?? false) as boolean,
    bodyLimit: options.bodyLimit ?? BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
  });
  const authenticate = options.authenticate ?? allowEveryone;
  const principals = new WeakMap<FastifyRequest, Principal>();

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    if (request.url === "/health") return;
    const principal = await authenticate(request);
    if (principal instanceof HttpError) throw principal;
    principals.set(request, principal);
  });
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    const { status, code, message } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    const retryAfter = (error as { retryAfterSec?: number }).retryAfterSec;
    if (retryAfter !== undefined) void reply.header("retry-after", String(Math.max(1, Math.ceil(retryAfter))));
    void reply.code(status).header("x-request-id", request.id).send({ error: { code, message } });
  });
  app.setNotFoundHandler((request, reply) => void reply.code(404).send({ error: { code: "ROUTE_NOT_FOUND", message: `There is no route ${request.method} ${request.url.split("?")[0]}. GET /openapi.json lists them.` } }));

  const runOf = async (id: string): Promise<ServiceRun> => {
    const run = await queue.get(id);
    if (!run) throw new HttpError(404, "RUN_NOT_FOUND", `There is no run "${id}". GET /runs lists the runs.`);
    return run;
  };
  const actorOf = (request: FastifyRequest) => principals.get(request)?.id ?? "anonymous";

  app.post("/runs", async (request, reply) => {
    const body = parse(RunBodySchema, request.body);
    const input = stripControl(body.input).trim();
    if (!input) throw new HttpError(400, "INVALID_REQUEST", "input: the task is empty once control characters are removed.");
    const graph = body.graph ?? workspace.config.defaultGraph ?? graphs()[0]?.name;
    if (!graph || !graphs().some((entry) => entry.name === graph)) throw new HttpError(400, "GRAPH_NOT_FOUND", `graph: no graph named "${graph ?? ""}". GET /graphs lists the registered graphs.`);
    const keyId = principals.get(request)?.keyId;
    const run = await queue.submit({ graph, input, ...(keyId ? { keyId } : {}), ...(body.idempotencyKey ? { idempotencyKey: body.idempotencyKey } : {}), ...(body.callbackUrl ? { callbackUrl: body.callbackUrl } : {}) });
    return reply.code(202).header("location", `/runs/${run.id}`).send({ id: run.id, graph: run.graph, threadId: run.threadId, status: run.status });
  });
  app.get("/runs", async (request) => {
    const query = parse(ListQuerySchema, request.query);
    return { runs: await queue.list({ ...(query.status ? { status: query.status } : {}), ...(query.limit ? { limit: query.limit } : {}) }) };
  });
  app.get<{ Params: { id: string } }>("/runs/:id", (request) => runOf(request.params.id));
  app.get<{ Params: { id: string } }>("/runs/:id/events", async (request, reply) => {
    const run = await runOf(request.params.id);
    const header = request.headers["last-event-id"];
    const after = (Array.isArray(header) ? header[0] : header)?.trim() || undefined;
    if (after !== undefined && after !== "0" && !events.isEventId(after)) throw new HttpError(400, "INVALID_REQUEST", `Last-Event-ID "${after.slice(0, 40)}" is not an event id of this stream: send the id: of the last event received, or no header to start from the first.`);
    // A run whose events are gone (it ended before this server kept them, or they expired) ends its stream instead of waiting.
    const settled = async () => !["queued", "running"].includes((await queue.get(run.id))?.status ?? "done");
    streamEvents(request, reply, events, run.id, after === "0" ? undefined : after, settled);
  });
  app.post<{ Params: { id: string } }>("/runs/:id/cancel", async (request) => {
    const run = await runOf(request.params.id);
    if (!(await queue.cancel(run.id))) throw new HttpError(409, "RUN_ENDED", `Run "${run.id}" is ${run.status}: there is nothing to cancel.`);
    return runOf(run.id);
  });
  app.get("/approvals", async () => {
    const waiting = await queue.list({ status: "interrupted", limit: 1_000 });
    return { approvals: waiting.flatMap((run) => (run.pending ?? []).map((approval) => ({ runId: run.id, threadId: run.threadId, graph: run.graph, ...approval }))) };
  });
  app.post<{ Params: { id: string } }>("/runs/:id/approve", async (request, reply) => {
    const body = parse(ApproveBodySchema, request.body ?? {});
    const run = await runOf(request.params.id);
    const chosen = chooseApprovals(run, body.interruptId);
    if (body.edit !== undefined && chosen.length > 1) throw new HttpError(400, "INVALID_REQUEST", `edit applies to one approval, and ${chosen.length} are pending. Name it with interruptId (GET /approvals).`);
    const decision: ApprovalDecision = body.edit === undefined ? { decision: "approve", actor: actorOf(request) } : { decision: "edit", edit: body.edit, actor: actorOf(request) };
    return reply.code(202).send(await decide(queue, run, chosen, decision));
  });
  app.post<{ Params: { id: string } }>("/runs/:id/reject", async (request, reply) => {
    const body = parse(RejectBodySchema, request.body);
    const run = await runOf(request.params.id);
    const decision: ApprovalDecision = { decision: "reject", reason: stripControl(body.reason).trim(), actor: actorOf(request) };
    return reply.code(202).send(await decide(queue, run, chooseApprovals(run, body.interruptId), decision));
  });
  app.get("/graphs", async () => ({ graphs: graphs() }));
  const deadLetters = (): DeadLetterSource => {
    const source = options.distributed?.queue;
    if (!source?.deadLetters || !source.retryDeadLetter) throw new HttpError(404, "DEAD_LETTERS_OFF", "Dead letters are the BullMQ queue's failed runs: start the server with --queue bullmq. Runs of the CLI fail into conclave dlq.");
    return source as DeadLetterSource;
  };
  app.get("/dead-letters", async (request) => {
    const query = parse(ListQuerySchema.pick({ limit: true }), request.query ?? {});
    return { deadLetters: await deadLetters().deadLetters(query.limit ? { limit: query.limit } : {}) };
  });
  app.post<{ Params: { runId: string } }>("/dead-letters/:runId/retry", async (request, reply) => reply.code(202).send(await deadLetters().retryDeadLetter(request.params.runId)));
  // The raw body is kept: an inbound webhook's signature is over the exact bytes sent.
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    (request as FastifyRequest & { rawBody?: string }).rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      Object.assign(error as Error, { statusCode: 400 });
      done(error as Error, undefined);
    }
  });
  app.post("/webhooks/:source", async (request, reply) => {
    const hooks = options.webhooks;
    if (!hooks) throw new HttpError(404, "WEBHOOKS_OFF", "Inbound webhooks are off: set CONCLAVE_WEBHOOK_SECRET for conclave serve.");
    const header = (name: string) => String(request.headers[name] ?? "");
    let verified;
    try {
      verified = await verifyWebhook({ id: header("webhook-id"), timestamp: header("webhook-timestamp"), body: (request as FastifyRequest & { rawBody?: string }).rawBody ?? "", signatures: header("webhook-signature") }, { secrets: hooks.secrets, replayCache: hooks.replayCache });
    } catch (error) {
      if (error instanceof WebhookVerificationError) throw new HttpError(error.reason === "replay" ? 409 : 401, error.code, error.message);
      throw error;
    }
    const body = parse(RunBodySchema, verified.payload);
    const graph = body.graph ?? workspace.config.defaultGraph ?? graphs()[0]?.name ?? "";
    // A redelivered event (same id) starts no second run: the inbox answers with the first run's id.
    const { runId, duplicate } = await hooks.inbox.accept(verified, async () => (await queue.submit({ graph, input: stripControl(body.input), idempotencyKey: `webhook:${(request.params as { source: string }).source}:${verified.id}` })).id);
    return reply.code(202).send({ id: runId, duplicate });
  });
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => {
    const checkpointer = await workspace.checkpointer().then(async (opened) => {
      await opened.saver.getTuple({ configurable: { thread_id: "conclave-ready-probe" } });
      return { ok: true, backend: opened.backend, location: opened.location };
    }).catch((error: unknown) => ({ ok: false, error: workspace.redactor.redact(error instanceof Error ? error.message : String(error)) }));
    const states = breakers.snapshot().map(({ key, state }) => ({ key, state }));
    const { info } = createChatModel(workspace.config.model);
    const [services, provider] = await Promise.all([queue.ready?.() ?? Promise.resolve({} as Record<string, { ok: boolean; error?: string }>), providerProbe()]);
    // The provider is reported, not required: runs can still be accepted and queued while it is down (its breaker, once open, is).
    const ready = checkpointer.ok && !states.some((breaker) => breaker.state === "open") && Object.values(services).every((service) => service.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", checkpointer, ...services, breakers: states, provider: { name: info.name, offline: info.offline, ...provider } });
  });
  app.get("/metrics", async (_request, reply) => {
    const counts = await options.distributed?.queue.counts?.().catch(() => undefined);
    if (counts) metrics.setQueueCounts(counts);
    return reply.header("content-type", metrics.contentType).send(await metrics.text());
  });
  app.get("/openapi.json", async () => openApiDocument(version()));

  return {
    app,
    workspace,
    queue,
    events,
    async close(graceMs) {
      // Stop accepting first; open event streams get their runs' last events, then end, so closing never waits on them forever.
      const closing = app.close();
      // A distributed queue belongs to the caller (it closes it); runs in this process are stopped here.
      if (!options.distributed) await queue.close(graceMs);
      unsubscribe();
      await events.close();
      await closing;
    },
  };
}

function chooseApprovals(run: ServiceRun, interruptId: string | undefined) {
  if (run.status !== "interrupted" || !run.pending?.length) throw new HttpError(409, "RUN_NOT_WAITING", `Run "${run.id}" is ${run.status}, not waiting for an approval.`);
  if (interruptId === undefined) return run.pending;
  const chosen = run.pending.filter((approval) => approval.interruptId === interruptId);
  if (!chosen.length) throw new HttpError(404, "APPROVAL_NOT_FOUND", `Run "${run.id}" has no pending approval "${interruptId}". Pending: ${run.pending.map((approval) => `${approval.interruptId} (${approval.request.summary.slice(0, 60)})`).join("; ")}.`);
  return chosen;
}

/** The queue publishes the run's "queued" status before answering, so a client that reconnects with Last-Event-ID follows the resumed run. */
function decide(queue: RunQueue, run: ServiceRun, chosen: Array<{ interruptId: string }>, decision: ApprovalDecision): Promise<ServiceRun> {
  return queue.decide(run.id, Object.fromEntries(chosen.map((approval) => [approval.interruptId, decision])));
}

/** The body of a signed outbound `run.<status>` notification. */
export function runNotification(run: ServiceRun): { type: string; run: Record<string, unknown> } {
  return { type: `run.${run.status}`, run: { id: run.id, graph: run.graph, threadId: run.threadId, status: run.status, ...(run.result ? { result: run.result } : {}), ...(run.error ? { error: run.error } : {}) } };
}

/** Server-Sent Events: `id:` the sequence number, `event:` the type, `data:` the event as JSON; ends with the run. */
function streamEvents(request: FastifyRequest, reply: FastifyReply, bus: ServiceEventBus, runId: string, after: string | undefined, settled: () => Promise<boolean>): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-request-id": request.id });
  const controller = new AbortController();
  raw.on("close", () => controller.abort());
  const heartbeat = setInterval(() => raw.write(": keep-alive\n\n"), 15_000).unref();
  void (async () => {
    try {
      for await (const { id, event } of bus.read(runId, after, controller.signal, settled)) raw.write(frame(id, event));
    } catch (error) {
      request.log.error({ err: error }, "event stream failed");
    } finally {
      clearInterval(heartbeat);
      raw.end();
    }
  })();
}

function frame(id: string, event: ServiceEvent): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  if (value === undefined || value === null) throw new HttpError(400, "INVALID_REQUEST", "The request needs a JSON body (content-type: application/json).");
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const message = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
  throw new HttpError(400, "INVALID_REQUEST", message);
}

function describeError(error: FastifyError | HttpError | Error): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return { status: error.status, code: error.code, message: error.message };
  if (error instanceof LimitStoreUnavailableError) return { status: 503, code: error.code, message: error.message };
  if (error instanceof RunStateError) return { status: error.code === "RUN_NOT_WAITING" ? 409 : 404, code: error.code, message: error.message };
  const fastify = error as FastifyError;
  switch (fastify.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 400, code: "BODY_TOO_LARGE", message: `The request body is larger than the limit (${BODY_LIMIT_BYTES / 1024} KiB). Send a shorter input.` };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { status: 400, code: "INVALID_JSON", message: `The request body is not valid JSON: ${fastify.message}` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 400, code: "UNSUPPORTED_MEDIA_TYPE", message: "Send the body as JSON (content-type: application/json)." };
  }
  if (fastify.statusCode && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // Fastify's JSON parser reports a bad body as a SyntaxError with status 400.
    const invalidJson = error instanceof SyntaxError;
    return { status: 400, code: invalidJson ? "INVALID_JSON" : "INVALID_REQUEST", message: invalidJson ? `The request body is not valid JSON: ${error.message}` : error.message };
  }
  return { status: 500, code: "INTERNAL", message: "The server failed on this request; its log has the details (search for the x-request-id)." };
}

function version(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
}
