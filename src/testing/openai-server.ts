/**
 * A scripted, fault-injecting OpenAI-compatible Chat Completions server for tests.
 *
 * Point `OPENAI_BASE_URL` (or a client's `baseURL`) at {@link FakeOpenAIServer.url}, enqueue the
 * replies the model should give, and inspect {@link FakeOpenAIServer.requests} afterwards. Every
 * request is checked against the hosted API's rules ({@link validateChatRequest}) so a conversation
 * the real API would reject fails the test too.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { answerEmbeddings } from "./fake-embeddings.ts";
import { validateChatRequest } from "./openai-server-validate.ts";

export { validateChatRequest };

/** Token counts reported in a completion's `usage`. */
export interface ScriptedUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** One function call the fake model makes. */
export interface ScriptedToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent verbatim, which lets tests inject malformed JSON. */
  arguments: string | Record<string, unknown>;
  /** Defaults to `call_fake_<n>`. */
  id?: string;
}

/**
 * How a reply goes over the wire: trickled (each piece after `chunkDelayMs`), and/or cut off by a
 * connection reset after `resetAfterChunks` pieces (a stream that dies half-way).
 */
export interface Delivery {
  chunkDelayMs?: number;
  resetAfterChunks?: number;
}

/** What the fake server does with one chat-completions request. */
export type ScriptedReply =
  /** An assistant text answer (`finish_reason: "stop"`). */
  | { kind: "text"; content: string; usage?: ScriptedUsage; delivery?: Delivery }
  /** An assistant turn calling tools (`finish_reason: "tool_calls"`). */
  | { kind: "tool-calls"; calls: ScriptedToolCall[]; content?: string; usage?: ScriptedUsage }
  /** An HTTP error, e.g. 429 with `{ "retry-after": "1" }`; `body` defaults to an OpenAI-style error. */
  | { kind: "error"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer, until the client aborts or the server closes. */
  | { kind: "hang" }
  /** Destroy the socket without any response. */
  | { kind: "reset" }
  /** Decide the reply from the request. */
  | { kind: "respond"; handler: (request: RecordedRequest) => ScriptedReply };

/** A chat-completions request as the fake server received it. */
export interface RecordedRequest {
  /** 0-based order of arrival. */
  index: number;
  /** `Date.now()` on arrival. */
  at: number;
  /** e.g. `"/v1/chat/completions"`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body. */
  body: any;
  /** `body.stream === true`. */
  stream: boolean;
  /** Hosted-API rule violations found in this request; empty when valid. */
  violations: string[];
}

/** A running fake server. */
export interface FakeOpenAIServer {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:54321/v1` — what `OPENAI_BASE_URL` is set to. */
  url: string;
  /** Every chat-completions request received, in order. */
  requests: RecordedRequest[];
  /** Every `POST /v1/embeddings` body received (answered with deterministic vectors), in order. */
  embeddingRequests: Array<{ input?: unknown; model?: unknown; dimensions?: unknown }>;
  /** Queues replies (FIFO), one per chat-completions request. */
  enqueue(...replies: ScriptedReply[]): this;
  /** The reply used when the queue is empty; `undefined` restores the default 500 "no scripted reply left". */
  setFallback(reply: ScriptedReply | undefined): void;
  /** Stops the server, ending hung requests and open connections. */
  close(): Promise<void>;
}

/** Options for {@link startFakeOpenAIServer}. */
export interface FakeOpenAIServerOptions {
  /** Port to listen on (127.0.0.1 only); default 0, a random free port. */
  port?: number;
  /** Reject requests that break the hosted API's rules with a 400; default true. */
  validate?: boolean;
}

type FinalReply = Exclude<ScriptedReply, { kind: "respond" }>;
type Json = Record<string, unknown>;

const MODELS = { object: "list", data: [{ id: "fake-model", object: "model", created: 0, owned_by: "conclave" }] };

function errorBody(message: string, type: string): Json {
  return { error: { message, type, param: null, code: null } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Splits `text` into at most `parts` non-empty pieces, so streams carry several deltas. */
function split(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

const tokens = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

function contentChars(content: unknown): number {
  if (typeof content === "string") return content.length;
  if (!Array.isArray(content)) return 0;
  return content.reduce<number>((sum, part: { text?: unknown }) => sum + (typeof part?.text === "string" ? part.text.length : 0), 0);
}

/** A deterministic stand-in for tokenization, so usage assertions are stable. */
function promptTokens(body: Json): number {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
  return tokens(messages.reduce((sum, m) => sum + contentChars(m?.content), 0));
}

function resolveReply(reply: ScriptedReply, request: RecordedRequest): FinalReply {
  let current = reply;
  // A handler may delegate to another handler; the bound stops an accidental infinite chain.
  for (let depth = 0; current.kind === "respond"; depth++) {
    if (depth > 20) throw new Error("respond handlers nested more than 20 deep");
    current = current.handler(request);
  }
  return current;
}

class FakeServer implements FakeOpenAIServer {
  readonly requests: RecordedRequest[] = [];
  readonly embeddingRequests: Array<{ input?: unknown; model?: unknown; dimensions?: unknown }> = [];
  url = "";
  private readonly queue: ScriptedReply[] = [];
  private fallback: ScriptedReply | undefined;
  private readonly sockets = new Set<Socket>();
  private completions = 0;
  private toolCalls = 0;
  private readonly server: Server;

  constructor(private readonly validate: boolean) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  enqueue(...replies: ScriptedReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  setFallback(reply: ScriptedReply | undefined): void {
    this.fallback = reply;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      // server.close() alone waits for hung and keep-alive connections, which would never end.
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    // A client that gives up mid-write must not crash the test process.
    res.on("error", () => {});
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (req.method === "GET" && path === "/v1/models") return sendJson(res, 200, MODELS);
    if (req.method === "POST" && path === "/v1/embeddings") return this.embed(req, res);
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return sendJson(res, 404, errorBody(`fake server: no route for ${req.method} ${path}`, "invalid_request_error"));
    }
    const text = await readBody(req).catch(() => undefined);
    if (text === undefined) return; // the client went away mid-request
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      return sendJson(res, 400, errorBody(`fake server: request body is not valid JSON (${String(error)})`, "invalid_request_error"));
    }
    const request = this.record(req, path, at, body);
    if (this.validate && request.violations.length > 0) {
      const message = `fake server: request violates the hosted Chat Completions rules:\n- ${request.violations.join("\n- ")}`;
      return sendJson(res, 400, errorBody(message, "invalid_request_error"));
    }
    this.play(this.nextReply(request), request, req, res);
  }

  private async embed(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req).catch(() => undefined);
    if (text === undefined) return;
    try {
      const body = JSON.parse(text) as { input?: unknown; model?: unknown; dimensions?: unknown };
      this.embeddingRequests.push(body);
      answerEmbeddings(body, res);
    } catch (error) {
      sendJson(res, 400, errorBody(`fake server: request body is not valid JSON (${String(error)})`, "invalid_request_error"));
    }
  }

  private record(req: IncomingMessage, path: string, at: number, body: unknown): RecordedRequest {
    const request: RecordedRequest = {
      index: this.requests.length,
      at,
      path,
      headers: { ...req.headers },
      body,
      stream: (body as { stream?: unknown } | null)?.stream === true,
      violations: validateChatRequest(body),
    };
    this.requests.push(request);
    return request;
  }

  private nextReply(request: RecordedRequest): ScriptedReply {
    const reply = this.queue.shift() ?? this.fallback;
    if (reply) return reply;
    return { kind: "error", status: 500, body: errorBody(`fake server: no scripted reply left for request ${request.index}`, "server_error") };
  }

  private play(scripted: ScriptedReply, request: RecordedRequest, req: IncomingMessage, res: ServerResponse): void {
    let reply: FinalReply;
    try {
      reply = resolveReply(scripted, request);
    } catch (error) {
      return sendJson(res, 500, errorBody(`fake server: respond handler failed: ${String(error)}`, "server_error"));
    }
    switch (reply.kind) {
      case "hang":
        return; // close() destroys the socket
      case "reset":
        return void req.socket.destroy();
      case "error":
        return sendJson(res, reply.status, reply.body ?? defaultError(reply.status), reply.headers);
      case "text":
      case "tool-calls":
        return this.complete(reply, request, res);
    }
  }

  private complete(reply: Extract<FinalReply, { kind: "text" | "tool-calls" }>, request: RecordedRequest, res: ServerResponse): void {
    const base = {
      id: `chatcmpl-fake-${++this.completions}`,
      created: Math.floor(Date.now() / 1000),
      model: typeof request.body?.model === "string" ? request.body.model : "fake-model",
      system_fingerprint: "fp_fake",
    };
    const calls = reply.kind === "tool-calls" ? reply.calls.map((call) => this.toolCall(call)) : [];
    const content = reply.kind === "text" ? reply.content : (reply.content ?? null);
    const callChars = calls.reduce((sum, c) => sum + c.function.name.length + c.function.arguments.length, 0);
    const completionChars = (content?.length ?? 0) + callChars;
    const counts = reply.usage ?? {
      prompt_tokens: promptTokens(request.body as Json),
      completion_tokens: tokens(completionChars),
    };
    const usage = { ...counts, total_tokens: counts.prompt_tokens + counts.completion_tokens };
    const delivery = reply.kind === "text" ? reply.delivery : undefined;
    if (request.stream) {
      const includeUsage = request.body?.stream_options?.include_usage === true;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      return void deliver(res, streamEvents(base, content, calls, includeUsage ? usage : undefined), delivery);
    }
    const message = { role: "assistant", content, refusal: null, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
    const choice = { index: 0, message, logprobs: null, finish_reason: calls.length > 0 ? "tool_calls" : "stop" };
    const body = JSON.stringify({ ...base, object: "chat.completion", choices: [choice], usage });
    if (!delivery) return sendJson(res, 200, JSON.parse(body));
    res.writeHead(200, { "content-type": "application/json" });
    void deliver(res, split(body, 8), delivery);
  }

  private toolCall(call: ScriptedToolCall): WireToolCall {
    const args = typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);
    return { id: call.id ?? `call_fake_${++this.toolCalls}`, type: "function", function: { name: call.name, arguments: args } };
  }
}

interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

function defaultError(status: number): Json {
  return errorBody(`fake server: injected ${status}`, status === 429 ? "rate_limit_exceeded" : "server_error");
}

/** Writes a completion as server-sent events, one `res.write` per chunk so clients see real deltas. */
/** Writes the pieces in order, trickled and/or cut off as the delivery says. */
async function deliver(res: ServerResponse, pieces: string[], delivery: Delivery | undefined): Promise<void> {
  for (const [index, piece] of pieces.entries()) {
    if (delivery?.resetAfterChunks !== undefined && index >= delivery.resetAfterChunks) return void res.socket?.destroy();
    if (delivery?.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, delivery.chunkDelayMs));
    if (res.destroyed) return;
    res.write(piece);
  }
  res.end();
}

function streamEvents(base: Json, content: string | null, calls: WireToolCall[], usage: Json | undefined): string[] {
  const events: string[] = [];
  const send = (payload: unknown): void => void events.push(`data: ${JSON.stringify(payload)}\n\n`);
  const chunk = (delta: Json, finish_reason: string | null = null): Json => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason }],
  });
  send(chunk({ role: "assistant", content: content === null ? null : "" }));
  for (const piece of split(content ?? "", 3)) send(chunk({ content: piece }));
  calls.forEach((call, index) => {
    send(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] }));
    for (const piece of split(call.function.arguments, 3)) send(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  send(chunk({}, calls.length > 0 ? "tool_calls" : "stop"));
  if (usage) send({ ...base, object: "chat.completion.chunk", choices: [], usage });
  events.push("data: [DONE]\n\n");
  return events;
}

/**
 * Starts a fake OpenAI-compatible server on 127.0.0.1.
 *
 * @example
 * ```ts
 * const server = await startFakeOpenAIServer();
 * server.enqueue({ kind: "tool-calls", calls: [{ name: "add", arguments: { a: 1, b: 2 } }] }, { kind: "text", content: "3" });
 * process.env.OPENAI_BASE_URL = server.url;
 * // ... run the agent, then:
 * expect(server.requests[1]?.body.messages.at(-1).role).toBe("tool");
 * await server.close();
 * ```
 */
export async function startFakeOpenAIServer(options: FakeOpenAIServerOptions = {}): Promise<FakeOpenAIServer> {
  const server = new FakeServer(options.validate ?? true);
  await server.listen(options.port ?? 0);
  return server;
}
