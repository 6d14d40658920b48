import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatOpenAI } from "@langchain/openai";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeOpenAIServer, validateChatRequest, type FakeOpenAIServer } from "./openai-server.ts";

type APIError = InstanceType<typeof OpenAI.APIError>;

const servers: FakeOpenAIServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options?: Parameters<typeof startFakeOpenAIServer>[0]): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAIServer(options);
  servers.push(server);
  return server;
}

function clientFor(server: FakeOpenAIServer, options: { timeout?: number } = {}): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: "test", maxRetries: 0, ...options });
}

const hello = [{ role: "user" as const, content: "Hello there" }];

const calculatorTool = {
  type: "function" as const,
  function: { name: "calculator", parameters: { type: "object", properties: { expression: { type: "string" } } } },
};

describe("startFakeOpenAIServer", () => {
  it("listens on 127.0.0.1 with a /v1 base URL", async () => {
    const server = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it("answers a scripted text reply and records the request", async () => {
    const server = await start();
    server.enqueue({ kind: "text", content: "General Kenobi" });
    const completion = await clientFor(server).chat.completions.create({ model: "gpt-test", messages: hello });

    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "gpt-test",
      system_fingerprint: "fp_fake",
      choices: [{ index: 0, message: { role: "assistant", content: "General Kenobi", refusal: null }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
    });
    expect(completion.id).toMatch(/^chatcmpl-fake-\d+$/);
    expect(completion.created).toBeCloseTo(Date.now() / 1000, -1);

    const [request] = server.requests;
    expect(request).toMatchObject({ index: 0, path: "/v1/chat/completions", stream: false, violations: [] });
    expect(request?.body.messages).toEqual(hello);
    expect(request?.headers.authorization).toBe("Bearer test");
  });

  it("uses scripted usage when given", async () => {
    const server = await start();
    server.enqueue({ kind: "text", content: "ok", usage: { prompt_tokens: 100, completion_tokens: 7 } });
    const completion = await clientFor(server).chat.completions.create({ model: "m", messages: hello });
    expect(completion.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 7, total_tokens: 107 });
  });

  it("answers tool calls with object and verbatim (malformed) string arguments", async () => {
    const server = await start();
    server.enqueue({
      kind: "tool-calls",
      calls: [
        { name: "calculator", arguments: { expression: "1+1" } },
        { name: "calculator", arguments: '{"expression": "1+', id: "call_broken" },
      ],
    });
    const completion = await clientFor(server).chat.completions.create({ model: "m", messages: hello, tools: [calculatorTool] });
    const choice = completion.choices[0];

    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_fake_\d+$/), type: "function", function: { name: "calculator", arguments: '{"expression":"1+1"}' } },
      { id: "call_broken", type: "function", function: { name: "calculator", arguments: '{"expression": "1+' } },
    ]);
  });

  it("streams text that the SDK reassembles, with a usage chunk", async () => {
    const server = await start();
    server.enqueue({ kind: "text", content: "The quick brown fox jumps" });
    const stream = clientFor(server).chat.completions.stream({
      model: "m",
      messages: hello,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on("content", (delta) => deltas.push(delta));
    const final = await stream.finalChatCompletion();

    expect(final.choices[0]?.message.content).toBe("The quick brown fox jumps");
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(deltas.filter(Boolean).length).toBe(3);
    expect(final.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 });
    expect(server.requests[0]?.stream).toBe(true);
  });

  it("streams tool calls that the SDK reassembles", async () => {
    const server = await start();
    server.enqueue({
      kind: "tool-calls",
      content: "Let me calculate.",
      calls: [
        { name: "calculator", arguments: { expression: "6*7" }, id: "call_a" },
        { name: "calculator", arguments: '{"expression": "1+' },
      ],
    });
    const stream = clientFor(server).chat.completions.stream({ model: "m", messages: hello, tools: [calculatorTool] });
    const final = await stream.finalChatCompletion();
    const message = final.choices[0]?.message;

    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(message?.content).toBe("Let me calculate.");
    expect(message?.tool_calls).toMatchObject([
      { id: "call_a", type: "function", function: { name: "calculator", arguments: '{"expression":"6*7"}' } },
      { id: expect.stringMatching(/^call_fake_/), type: "function", function: { name: "calculator", arguments: '{"expression": "1+' } },
    ]);
  });

  it("sends raw chunks: role first, split arguments, usage last with no choices", async () => {
    const server = await start();
    server.enqueue({ kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression: "12345*678" } }] });
    const stream = await clientFor(server).chat.completions.create({
      model: "m",
      messages: hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const argPieces = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.arguments).filter(Boolean);
    expect(argPieces.length).toBeGreaterThanOrEqual(2);
    expect(argPieces.join("")).toBe('{"expression":"12345*678"}');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("tool_calls");
    expect(chunks.at(-1)).toMatchObject({ object: "chat.completion.chunk", choices: [], usage: { total_tokens: expect.any(Number) } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("injects a 429 the SDK sees as RateLimitError with retry-after", async () => {
    const server = await start();
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after": "1" } });
    const error = await clientFor(server).chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as APIError;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers?.get("retry-after")).toBe("1");
    expect(rateLimit.type).toBe("rate_limit_exceeded");
    expect(rateLimit.message).toContain("fake server: injected 429");
  });

  it("injects a 500, with the default or a custom body", async () => {
    const server = await start();
    server.enqueue({ kind: "error", status: 500 }, { kind: "error", status: 503, body: { error: { message: "overloaded" } } });
    const client = clientFor(server);

    const first = await client.chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    expect((first as APIError).type).toBe("server_error");

    const second = await client.chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);
    expect(second).toMatchObject({ status: 503, message: expect.stringContaining("overloaded") });
  });

  it("hangs until the client times out", async () => {
    const server = await start();
    server.enqueue({ kind: "hang" });
    const started = Date.now();
    const error = await clientFor(server, { timeout: 300 }).chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(server.requests).toHaveLength(1);
  });

  it("resets the connection", async () => {
    const server = await start();
    server.enqueue({ kind: "reset" });
    const error = await clientFor(server).chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it("rejects an unanswered assistant tool call with a 400 and records the violation", async () => {
    const server = await start();
    server.enqueue({ kind: "text", content: "never sent" });
    const error = await clientFor(server)
      .chat.completions.create({
        model: "m",
        messages: [
          ...hello,
          { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "calculator", arguments: "{}" } }] },
          { role: "user", content: "well?" },
        ],
      })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as APIError).message).toContain("missing tool_call_id call_1");
    expect((error as APIError).type).toBe("invalid_request_error");
    expect(server.requests[0]?.violations).toEqual([
      "messages[1] (assistant): tool_calls must be answered by tool messages before messages[2]; missing tool_call_id call_1",
    ]);

    // The invalid request did not consume the scripted reply.
    const ok = await clientFor(server).chat.completions.create({ model: "m", messages: hello });
    expect(ok.choices[0]?.message.content).toBe("never sent");
  });

  it("rejects an empty user message with a 400", async () => {
    const server = await start();
    const error = await clientFor(server)
      .chat.completions.create({ model: "m", messages: [{ role: "user", content: "" }] })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(server.requests[0]?.violations).toEqual(["messages[0] (user): content must not be empty"]);
  });

  it("lets invalid requests through when validate is false, still recording violations", async () => {
    const server = await start({ validate: false });
    server.enqueue({ kind: "text", content: "fine" });
    const completion = await clientFor(server).chat.completions.create({ model: "m", messages: [{ role: "user", content: "" }] });
    expect(completion.choices[0]?.message.content).toBe("fine");
    expect(server.requests[0]?.violations).toHaveLength(1);
  });

  it("gives every completion a unique id", async () => {
    const server = await start();
    server.enqueue(
      { kind: "text", content: "a" },
      { kind: "tool-calls", calls: [{ name: "calculator", arguments: {} }] },
      { kind: "text", content: "c" },
    );
    const client = clientFor(server);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.chat.completions.create({ model: "m", messages: hello })).id);
    expect(new Set(ids).size).toBe(3);
    expect(server.requests.map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it("answers 500 when the script runs out, or the fallback when set", async () => {
    const server = await start();
    const client = clientFor(server);
    const error = await client.chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as Error).message).toContain("fake server: no scripted reply left for request 0");

    server.setFallback({ kind: "text", content: "again" });
    const replies = await Promise.all([1, 2].map(() => client.chat.completions.create({ model: "m", messages: hello })));
    expect(replies.map((r) => r.choices[0]?.message.content)).toEqual(["again", "again"]);

    server.setFallback(undefined);
    await expect(client.chat.completions.create({ model: "m", messages: hello })).rejects.toThrow(/no scripted reply left for request 3/);
  });

  it("decides a reply from the request with respond", async () => {
    const server = await start();
    server.setFallback({
      kind: "respond",
      handler: (request) => ({ kind: "text", content: `you said: ${request.body.messages.at(-1).content}` }),
    });
    const completion = await clientFor(server).chat.completions.create({ model: "m", messages: hello });
    expect(completion.choices[0]?.message.content).toBe("you said: Hello there");
  });

  it("closes while a request hangs", async () => {
    const server = await startFakeOpenAIServer();
    server.enqueue({ kind: "hang" });
    const pending = clientFor(server).chat.completions.create({ model: "m", messages: hello }).catch((e: unknown) => e);
    await expect.poll(() => server.requests.length).toBe(1);

    await server.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it("lists models, 404s unknown routes and 400s bad JSON", async () => {
    const server = await start();
    const models = await clientFor(server).models.list();
    expect(models.data).toEqual([{ id: "fake-model", object: "model", created: 0, owned_by: "conclave" }]);

    const missing = await fetch(`${server.url}/completions`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: "invalid_request_error", param: null, code: null } });

    const bad = await fetch(`${server.url}/chat/completions`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: expect.stringContaining("not valid JSON"), type: "invalid_request_error" } });
    expect(server.requests).toHaveLength(0);
  });

  it("serves a LangChain ChatOpenAI tool round trip without violations", async () => {
    const server = await start();
    server.enqueue(
      { kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression: "2+2" } }] },
      { kind: "text", content: "4" },
    );
    const model = new ChatOpenAI({ model: "gpt-test", apiKey: "test", maxRetries: 0, configuration: { baseURL: server.url } });
    const withTools = model.bindTools([calculatorTool]);

    const question = new HumanMessage("What is 2+2?");
    const call = await withTools.invoke([question]);
    expect(call.tool_calls).toMatchObject([{ name: "calculator", args: { expression: "2+2" } }]);
    const toolCallId = call.tool_calls?.[0]?.id ?? "";
    const answer = await withTools.invoke([question, new AIMessage(call), new ToolMessage({ content: "4", tool_call_id: toolCallId })]);

    expect(answer.content).toBe("4");
    expect(server.requests.map((r) => r.violations)).toEqual([[], []]);
  });
});

describe("validateChatRequest", () => {
  const call = (id: string) => ({ id, type: "function", function: { name: "calculator", arguments: "{}" } });

  it("accepts a valid tool conversation answered in any order", () => {
    expect(
      validateChatRequest({
        model: "m",
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: [{ type: "text", text: "hi" }, { type: "image_url", image_url: { url: "data:," } }] },
          { role: "assistant", content: null, tool_calls: [call("a"), call("b")] },
          { role: "tool", tool_call_id: "b", content: "2" },
          { role: "tool", tool_call_id: "a", content: [{ type: "text", text: "1" }] },
          { role: "assistant", content: "done" },
        ],
        tools: [calculatorTool],
        tool_choice: { type: "function", function: { name: "calculator" } },
      }),
    ).toEqual([]);
  });

  it("reports missing model, empty messages and non-object bodies", () => {
    expect(validateChatRequest({ messages: [] })).toEqual(["model must be a non-empty string", "messages must be a non-empty array"]);
    expect(validateChatRequest(null)).toEqual(["request body must be a JSON object"]);
  });

  it("reports invalid roles and empty messages", () => {
    expect(
      validateChatRequest({
        model: "m",
        messages: [
          { role: "narrator", content: "x" },
          { role: "system", content: [] },
          { role: "user", content: [{ type: "text", text: "" }] },
          { role: "assistant", content: "" },
        ],
      }),
    ).toEqual([
      'messages[0]: invalid role "narrator"',
      "messages[1] (system): content must not be empty",
      "messages[2] (user): content must not be empty",
      "messages[3] (assistant): must have non-empty content or at least one tool call",
    ]);
  });

  it("reports malformed and duplicate tool calls", () => {
    const violations = validateChatRequest({
      model: "m",
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", tool_calls: [call("a"), { type: "tool", function: { name: "calculator", arguments: {} } }, call("a")] },
        { role: "tool", tool_call_id: "a", content: "" },
      ],
    });
    expect(violations).toEqual([
      "messages[1] (assistant).tool_calls[1]: id must be a non-empty string",
      'messages[1] (assistant).tool_calls[1]: type must be "function"',
      "messages[1] (assistant).tool_calls[1]: function.arguments must be a string",
      "messages[1] (assistant).tool_calls[2]: duplicate tool call id a",
      "messages[2] (tool): content must not be empty",
    ]);
  });

  it("reports tool messages answering unknown ids and unanswered calls at the end", () => {
    expect(
      validateChatRequest({
        model: "m",
        messages: [
          { role: "user", content: "go" },
          { role: "tool", tool_call_id: "x", content: "orphan" },
          { role: "assistant", content: null, tool_calls: [call("a"), call("b")] },
          { role: "tool", tool_call_id: "a", content: "1" },
          { role: "tool", tool_call_id: "a", content: "1 again" },
        ],
      }),
    ).toEqual([
      "messages[1] (tool): tool message answers unknown tool_call_id x",
      "messages[4] (tool): tool_call_id a is answered more than once",
      "messages[2] (assistant): tool_calls must be answered by tool messages before the end of the conversation; missing tool_call_id b",
    ]);
  });

  it("reports a tool message answering an earlier turn's call", () => {
    expect(
      validateChatRequest({
        model: "m",
        messages: [
          { role: "user", content: "go" },
          { role: "assistant", content: null, tool_calls: [call("a")] },
          { role: "tool", tool_call_id: "a", content: "1" },
          { role: "assistant", content: null, tool_calls: [call("b")] },
          { role: "tool", tool_call_id: "a", content: "stale" },
          { role: "tool", tool_call_id: "b", content: "2" },
        ],
      }),
    ).toEqual(["messages[4] (tool): tool message answers unknown tool_call_id a"]);
  });

  it("reports bad tool declarations and an unknown tool_choice", () => {
    const violations = validateChatRequest({
      model: "m",
      messages: [{ role: "user", content: "go" }],
      tools: [calculatorTool, calculatorTool, { type: "function", function: { name: "has space" } }, { type: "retrieval" }],
      tool_choice: { type: "function", function: { name: "search" } },
    });
    expect(violations).toEqual([
      "tools[1]: duplicate tool name calculator",
      'tools[2]: function.name "has space" must match /^[a-zA-Z0-9_-]{1,64}$/',
      'tools[3]: type must be "function"',
      'tool_choice names function "search" which is not in tools',
    ]);
  });
});
