import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.ts";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import { attachLogger, createLogger, parseLogLevel } from "./logger.ts";
import { captureStream, runMathAgent } from "./test-helpers.ts";

type LogRecord = Record<string, unknown> & { level: string; event: string; msg: string };

function jsonLogger(level: "debug" | "info" | "warn" | "error" = "debug", redact?: (text: string) => string) {
  const destination = captureStream();
  const logger = createLogger({ level, destination, pretty: false, ...(redact ? { redact } : {}) });
  const records = () => destination.text().trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as LogRecord);
  return { logger, destination, records };
}

const base = { runId: "run-1", threadId: "thread-1", at: 1 };
const usage = { modelCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, retries: 0, cachedCalls: 0, savedCostUsd: 0, byAgent: {}, byRound: {} };

describe("attachLogger", () => {
  it("logs a real run as one record per event, with the run's ids, agent, node and call details", async () => {
    const events = new RunEvents();
    const { logger, records } = jsonLogger();
    const detach = attachLogger(events, logger);
    const result = await runMathAgent(events);
    detach();

    const logged = records();
    expect(logged.every((record) => record.runId === result.runId && record.threadId === result.threadId)).toBe(true);
    expect(logged.map((record) => record.event)).toEqual([
      "run-start", "node-start", "llm-call-start", "llm-call-end", "node-end",
      "node-start", "tool-call-start", "tool-call-end", "node-end",
      "node-start", "llm-call-start", "llm-call-end", "node-end", "run-end",
    ]);
    expect(logged[0]).toMatchObject({ level: "info", event: "run-start", graph: "mathy", model: "gpt-test", provider: "openai", msg: "run-start mathy" });
    const modelCall = logged.find((record) => record.event === "llm-call-end")!;
    expect(modelCall).toMatchObject({ level: "debug", agent: "mathy", node: "model", model: "gpt-test", tokens: { input: 1000, output: 20 }, toolCalls: ["calculator"] });
    expect(modelCall.costUsd).toBeCloseTo(0.00104, 10);
    expect(typeof modelCall.latencyMs).toBe("number");
    expect(modelCall).not.toHaveProperty("text");
    const toolCall = logged.find((record) => record.event === "tool-call-end")!;
    expect(toolCall).toMatchObject({ level: "debug", agent: "mathy", node: "tools", tool: "calculator", callId: "call_1", outputChars: 1 });
    expect(toolCall).not.toHaveProperty("output");
    expect(logged.at(-1)).toMatchObject({ level: "info", event: "run-end", status: "done", modelCalls: 2, toolCalls: 1, tokens: { input: 2200, output: 30 } });
  });

  it("puts each event type at its level and never logs tokens", () => {
    const events = new RunEvents();
    const { logger, records } = jsonLogger();
    attachLogger(events, logger);
    const sample: ConclaveEvent[] = [
      { ...base, type: "token", text: "Hel" },
      { ...base, type: "decision", by: "planner", next: "research", reason: "needs facts", round: 2 },
      { ...base, type: "round-end", round: 2, loop: "critique", measures: { agreement: 0.5 }, summary: "half agree" },
      { ...base, type: "data-access", tool: "read_file", kind: "file", resource: "notes.md" },
      { ...base, type: "approval-request", interruptId: "i1", kind: "tool", tool: "send_mail", summary: "send it?" },
      { ...base, type: "approval-decision", interruptId: "i1", kind: "tool", decision: "approved", actor: "ana" },
      { ...base, type: "retry", model: "gpt-test", attempt: 1, delayMs: 200, reason: "429", status: 429, agent: "mathy" },
      { ...base, type: "warning", message: "no price for gpt-test" },
      { ...base, type: "fallback", from: "gpt-test", level: "backup", model: "gpt-small", reason: "down" },
      { ...base, type: "breaker", key: "openai:gpt-test", state: "open", previous: "closed" },
      { ...base, type: "give-up", model: "gpt-test", attempts: 3, reason: "still 429" },
      { ...base, type: "error", error: { name: "ProviderError", code: "PROVIDER_DOWN", category: "provider", message: "down" } },
      { ...base, type: "run-end", status: "interrupted", durationMs: 5, usage },
      { ...base, type: "run-end", status: "aborted", durationMs: 5, usage },
      { ...base, type: "run-end", status: "failed", durationMs: 5, usage, error: { code: "PROVIDER_DOWN", message: "down" } },
    ];
    for (const event of sample) events.publish(event);
    expect(records().map((record) => `${record.event}:${record.level}`)).toEqual([
      "decision:debug", "round-end:debug", "data-access:debug",
      "approval-request:info", "approval-decision:info",
      "retry:warn", "warning:warn", "fallback:warn", "breaker:warn",
      "give-up:error", "error:error",
      "run-end:info", "run-end:warn", "run-end:error",
    ]);
    expect(records()[0]).toMatchObject({ round: 2, by: "planner", next: "research" });
    expect(records()[6]).toMatchObject({ msg: "no price for gpt-test" });
    expect(records()[7]).toMatchObject({ level: "warn", fallbackLevel: "backup", from: "gpt-test", model: "gpt-small" });
    expect(records()[13]).toMatchObject({ msg: "run-end failed: down", error: { code: "PROVIDER_DOWN" } });
  });

  it("respects the logger's level and stops when detached", () => {
    const events = new RunEvents();
    const { logger, records } = jsonLogger("warn");
    const detach = attachLogger(events, logger);
    events.publish({ ...base, type: "node-start", node: "model", step: 1, namespace: "" });
    events.publish({ ...base, type: "warning", message: "first" });
    detach();
    events.publish({ ...base, type: "warning", message: "second" });
    expect(records().map((record) => record.msg)).toEqual(["first"]);
  });
});

describe("createLogger", () => {
  const canary = "sk-canary-\"quoted\"-4242";
  const redact = (text: string) => text.replaceAll(canary, "[redacted]").replaceAll(JSON.stringify(canary).slice(1, -1), "[redacted]");

  it("redacts a secret from every JSON line, whichever field carries it", () => {
    const { logger, destination } = jsonLogger("debug", redact);
    logger.info({ apiKey: canary, nested: { header: `Bearer ${canary}` } }, `calling with ${canary}`);
    logger.error(new Error(`rejected key ${canary}`));
    expect(destination.text()).not.toContain("canary");
    expect(destination.text()).toContain("[redacted]");
    expect(destination.text().trim().split("\n")).toHaveLength(2);
  });

  it("writes pretty lines synchronously, also redacted", () => {
    const destination = captureStream();
    const logger = createLogger({ destination, pretty: true, redact });
    logger.warn({ runId: "run-1", token: canary }, `retrying with ${canary}`);
    const text = destination.text();
    expect(text).toContain("WARN");
    expect(text).toContain("retrying with [redacted]");
    expect(text).toContain("run-1");
    expect(text).not.toContain("canary");
    expect(() => JSON.parse(text)).toThrow();
  });

  it("writes JSON with a level name and time, at info by default, when the destination is not a terminal", () => {
    const destination = captureStream();
    const logger = createLogger({ destination });
    logger.debug("hidden");
    logger.info({ runId: "r" }, "shown");
    const [record] = destination.text().trim().split("\n").map((line) => JSON.parse(line) as LogRecord);
    expect(record).toMatchObject({ level: "info", runId: "r", msg: "shown" });
    expect(typeof record!.time).toBe("string");
    expect(record).not.toHaveProperty("pid");
  });
});

describe("parseLogLevel", () => {
  it("accepts the four levels in any case", () => {
    expect(parseLogLevel("debug")).toBe("debug");
    expect(parseLogLevel(" WARN ")).toBe("warn");
  });

  it("rejects anything else with a UsageError that lists the levels", () => {
    const error = (() => {
      try {
        parseLogLevel("verbose", "--log-level");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe("USAGE");
    expect((error as Error).message).toBe('Unknown --log-level "verbose". Use one of: debug, info, warn, error (debug also logs every node, model and tool call).');
    expect((error as UsageError).details).toEqual({ value: "verbose", allowed: ["debug", "info", "warn", "error"] });
  });
});
