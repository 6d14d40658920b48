import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { ProviderError, RunEvents, breakers, createAgentGraph, createChatModel, defineAgent, run, stream } from "../src/index.ts";
import type { ConclaveEvent, RunOptions } from "../src/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

// The real ChatOpenAI client (its own retries off) against injected faults; Conclave's one retry layer decides.
let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

const graph = createAgentGraph(defineAgent({ name: "plain", instructions: "Answer briefly.", tools: [], maxSteps: 2 }));
const fast = { baseDelayMs: 10, maxDelayMs: 50 };

async function ask(resilience: RunOptions["resilience"], question = "hi") {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const { model } = createChatModel({ provider: "openai", name: "fake-model", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 });
  const outcome = await run(graph, { messages: [new HumanMessage(question)] }, { model, events, resilience, endpoint: server.url }).then(
    (result) => ({ answer: result.state.messages.at(-1)?.text, error: undefined }),
    (error: unknown) => ({ answer: undefined, error: error as ProviderError }),
  );
  return { ...outcome, seen, of: <T extends ConclaveEvent["type"]>(type: T) => seen.filter((event): event is Extract<ConclaveEvent, { type: T }> => event.type === type) };
}

describe("one retry layer", () => {
  it("never sends a retry earlier than Retry-After", async () => {
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after": "1" } }, { kind: "text", content: "ok" });
    const { answer, of } = await ask(fast);
    expect(answer).toBe("ok");
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(of("retry")).toEqual([expect.objectContaining({ attempt: 1, reason: "rate-limited", status: 429, delayMs: 1_000 })]);
  });

  it("honours retry-after-ms, and backs off exponentially without a header", async () => {
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after-ms": "120" } }, { kind: "error", status: 429 }, { kind: "text", content: "ok" });
    const { answer, of } = await ask({ ...fast, maxRetries: 3 });
    expect(answer).toBe("ok");
    const [first, second] = of("retry");
    expect(first).toMatchObject({ delayMs: 120 });
    expect(second!.delayMs).toBeGreaterThanOrEqual(10);
    expect(second!.delayMs).toBeLessThanOrEqual(20);
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(115);
  });

  it("gives up at once when the provider asks for a longer wait than the cap, or the quota is gone", async () => {
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after": "120" } });
    const long = await ask({ ...fast, maxRetryAfterMs: 60_000 });
    expect(long.error).toBeInstanceOf(ProviderError);
    expect(server.requests).toHaveLength(1);
    expect(long.of("give-up")).toEqual([expect.objectContaining({ attempts: 1, reason: "rate-limited" })]);
    // Later calls honour the provider's request too: they fail fast instead of waiting two minutes.
    const held = await ask({ ...fast, maxRetryAfterMs: 60_000 });
    expect(held.error?.message).toMatch(/asked for no calls .* for another 1[12]\d s/);
    expect(server.requests).toHaveLength(1);
    breakers.clear();

    server.enqueue({ kind: "error", status: 429, body: { error: { message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota", param: null } } });
    const quota = await ask(fast);
    expect(quota.error?.code).toBe("PROVIDER_RATE_LIMITED");
    expect(server.requests).toHaveLength(2);
    expect(quota.of("give-up")).toEqual([expect.objectContaining({ reason: "quota-exhausted" })]);
  });

  it("does not retry a request the provider rejects as invalid", async () => {
    server.enqueue({ kind: "error", status: 400, body: { error: { message: "bad request", type: "invalid_request_error", code: null, param: null } } });
    const { error } = await ask(fast);
    expect(error?.code).toBe("PROVIDER_REJECTED");
    expect(server.requests).toHaveLength(1);
  });

  it("retries 5xx bursts, resets and hangs, within 1 + maxRetries HTTP calls", async () => {
    server.enqueue({ kind: "error", status: 502 }, { kind: "reset" }, { kind: "hang" }, { kind: "text", content: "recovered" });
    const recovered = await ask({ ...fast, maxRetries: 3, timeoutMs: 300 });
    expect(recovered.answer).toBe("recovered");
    expect(server.requests).toHaveLength(4);
    expect(recovered.of("retry").map((event) => event.reason)).toEqual(["server-error", "connection", "timeout"]);

    server.enqueue({ kind: "error", status: 503 }, { kind: "error", status: 503 }, { kind: "error", status: 503 }, { kind: "text", content: "too late" });
    const spent = await ask({ ...fast, maxRetries: 2 });
    expect(spent.error?.code).toBe("PROVIDER_FAILED");
    expect(server.requests).toHaveLength(4 + 3);
    expect(spent.of("give-up")).toEqual([expect.objectContaining({ attempts: 3, reason: "server-error", status: 503 })]);
  });

  it("times out a slow trickle and retries; a trickle within the timeout is fine", async () => {
    server.enqueue({ kind: "text", content: "far too slow", delivery: { chunkDelayMs: 150 } }, { kind: "text", content: "quick" });
    const slow = await ask({ ...fast, timeoutMs: 400 });
    expect(slow.answer).toBe("quick");
    expect(slow.of("retry")).toEqual([expect.objectContaining({ reason: "timeout" })]);

    server.enqueue({ kind: "text", content: "steady", delivery: { chunkDelayMs: 15 } });
    expect((await ask({ ...fast, timeoutMs: 2_000 })).answer).toBe("steady");
  });

  it("retries a stream the connection drops half-way", async () => {
    server.enqueue({ kind: "text", content: "this stream will be cut off", delivery: { resetAfterChunks: 2 } }, { kind: "text", content: "the whole answer" });
    const { model } = createChatModel({ provider: "openai", name: "fake-model", baseUrl: server.url, apiKey: "k", timeoutMs: 5_000, maxRetries: 0 });
    const running = stream(graph, { messages: [new HumanMessage("hi")] }, { model, resilience: fast });
    const retries: string[] = [];
    for await (const event of running) if (event.type === "retry") retries.push(event.reason);
    const result = await running.result;
    expect(server.requests.every((request) => request.stream)).toBe(true);
    expect(retries).toEqual(["connection"]);
    expect(result.state.messages.at(-1)?.text).toBe("the whole answer");
  });

  it("makes every call on the same model honour a Retry-After, not only the call that got it", async () => {
    server.enqueue({ kind: "error", status: 429, headers: { "retry-after": "1" } }, { kind: "text", content: "later" });
    const refused = await ask({ ...fast, maxRetries: 0 });
    expect(refused.error?.code).toBe("PROVIDER_RATE_LIMITED");
    const next = await ask({ ...fast, maxRetries: 0 });
    expect(next.answer).toBe("later");
    expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("stops retrying when the run's retry budget is spent", async () => {
    server.setFallback({ kind: "error", status: 500 });
    const { error, of } = await ask({ ...fast, maxRetries: 5, retryBudget: 2 });
    expect(error).toBeInstanceOf(ProviderError);
    expect(of("retry")).toHaveLength(2);
    expect(server.requests).toHaveLength(3);
  });
});

describe("circuit breaker per provider and model", () => {
  it("opens after the threshold, fails fast, probes after the cool-down and closes", async () => {
    const policy = { ...fast, maxRetries: 0, breaker: { failureThreshold: 2, cooldownMs: 200 } };
    server.enqueue({ kind: "error", status: 500 }, { kind: "error", status: 500 });
    await ask(policy);
    const second = await ask(policy);
    const key = `openai-compatible:fake-model@${server.url}`;
    expect(second.of("breaker")).toEqual([expect.objectContaining({ key, previous: "closed", state: "open" })]);
    expect(breakers.stateOf(key)).toBe("open");

    const blocked = await ask(policy);
    expect(blocked.error?.code).toBe("PROVIDER_CIRCUIT_OPEN");
    expect(server.requests).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 250));
    server.enqueue({ kind: "text", content: "back" });
    const probe = await ask(policy);
    expect(probe.answer).toBe("back");
    expect(server.requests).toHaveLength(3);
    // The probe went through half-open, then closed.
    expect(probe.of("breaker").map((event) => `${event.previous}→${event.state}`)).toEqual(["open→half-open", "half-open→closed"]);
    expect(breakers.snapshot()).toEqual([{ key, state: "closed", failureThreshold: 2, cooldownMs: 200 }]);
  });

  it("does not count a rejected request against the provider", async () => {
    const policy = { ...fast, maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 10_000 } };
    server.enqueue({ kind: "error", status: 400 }, { kind: "text", content: "fine" });
    await ask(policy);
    expect((await ask(policy)).answer).toBe("fine");
    expect(breakers.stateOf(`openai-compatible:fake-model@${server.url}`)).toBe("closed");
  });
});
