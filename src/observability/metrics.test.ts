import { describe, expect, it } from "vitest";
import { register } from "prom-client";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import { MemoryCacheStore } from "../resilience/cache/index.ts";
import { scriptedModel } from "../testing/index.ts";
import { RunMetrics } from "./metrics.ts";
import { calculatorCall, runMathAgent } from "./test-helpers.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.e+-]+|Inf|NaN|\+Inf))$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** A small Prometheus text-format parser: every line is a comment or `name{labels} value`. */
function parsePrometheus(text: string): { samples: Sample[]; help: Set<string>; types: Map<string, string> } {
  const samples: Sample[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  for (const line of text.split("\n").filter((item) => item.trim() !== "")) {
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === "HELP") help.add(comment[2]!);
      else types.set(comment[2]!, comment[3]!);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`Not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(match[2] ?? "").matchAll(LABEL)].map(([, key, value]) => [key!, value!]));
    samples.push({ name: match[1]!, labels, value: Number(match[3]!.replace("+Inf", "Infinity")) });
  }
  return { samples, help, types };
}

/** The value of the one sample named `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

async function scrape(metrics: RunMetrics) {
  const parsed = parsePrometheus(await metrics.text());
  // Every metric family is announced with HELP and TYPE.
  for (const sample of parsed.samples) {
    const family = sample.name.replace(/_(bucket|sum|count)$/, "");
    expect(parsed.help.has(family) || parsed.help.has(sample.name), `HELP for ${sample.name}`).toBe(true);
    expect(parsed.types.has(family) || parsed.types.has(sample.name), `TYPE for ${sample.name}`).toBe(true);
  }
  return parsed;
}

describe("RunMetrics on real runs", () => {
  it("counts runs, model calls, tokens, cost, tool calls and cache use from a ReAct agent's events", async () => {
    const events = new RunEvents();
    const metrics = new RunMetrics();
    const detach = metrics.attach(events);
    const cache = { store: new MemoryCacheStore(), cacheSampling: true };
    await runMathAgent(events, { cache });
    // The same question again: both model calls are answered from the cache.
    await runMathAgent(events, { cache, model: scriptedModel() });
    detach();

    const { samples, types } = await scrape(metrics);
    const model = { model: "gpt-test", agent: "mathy", graph: "mathy" };
    expect(valueOf(samples, "conclave_runs_total", { graph: "mathy", status: "done" })).toBe(2);
    expect(valueOf(samples, "conclave_model_requests_total", { ...model, status: "ok", cached: "false" })).toBe(2);
    expect(valueOf(samples, "conclave_model_requests_total", { ...model, status: "ok", cached: "true" })).toBe(2);
    expect(valueOf(samples, "conclave_tokens_total", { ...model, direction: "input" })).toBe(2200);
    expect(valueOf(samples, "conclave_tokens_total", { ...model, direction: "output" })).toBe(30);
    // $1 / $2 per million tokens: 2200 × 1 + 30 × 2 = 2260 millionths; cached answers cost nothing.
    expect(valueOf(samples, "conclave_cost_usd_total", model)).toBeCloseTo(0.00226, 12);
    expect(valueOf(samples, "conclave_model_request_duration_seconds_count", model)).toBe(4);
    expect(valueOf(samples, "conclave_model_request_duration_seconds_bucket", { ...model, le: "+Inf" })).toBe(4);
    expect(valueOf(samples, "conclave_tool_calls_total", { tool: "calculator", agent: "mathy", status: "ok" })).toBe(2);
    expect(valueOf(samples, "conclave_tool_call_duration_seconds_count", { tool: "calculator" })).toBe(2);
    expect(valueOf(samples, "conclave_cache_requests_total", { result: "hit" })).toBe(2);
    expect(valueOf(samples, "conclave_cache_requests_total", { result: "miss" })).toBe(2);
    expect(valueOf(samples, "conclave_cache_hit_ratio")).toBe(0.5);
    expect(types.get("conclave_model_request_duration_seconds")).toBe("histogram");
    expect(types.get("conclave_runs_total")).toBe("counter");
    expect(types.get("conclave_breaker_state")).toBe("gauge");
  });

  it("counts a failed run, its failed model call and its error by code", async () => {
    const events = new RunEvents();
    const metrics = new RunMetrics();
    metrics.attach(events);
    const model = scriptedModel().respond(calculatorCall()).fail(Object.assign(new Error("401 invalid api key"), { status: 401 }));
    const error = await runMathAgent(events, { model }).catch((caught: { code: string }) => caught);

    const { samples } = await scrape(metrics);
    expect(valueOf(samples, "conclave_runs_total", { graph: "mathy", status: "failed" })).toBe(1);
    expect(valueOf(samples, "conclave_model_requests_total", { model: "gpt-test", status: "error" })).toBe(1);
    expect(valueOf(samples, "conclave_model_requests_total", { model: "gpt-test", status: "ok" })).toBe(1);
    expect(valueOf(samples, "conclave_errors_total", { kind: (error as { code: string }).code })).toBe(1);
    // Only successful calls count towards the cache ratio.
    expect(valueOf(samples, "conclave_cache_requests_total", { result: "miss" })).toBe(1);
  });
});

describe("RunMetrics.observe", () => {
  const base = { runId: "r", threadId: "t", at: 1 };

  it("tracks retries, breaker states, approvals, and runs it never saw start under graph \"\"", async () => {
    const metrics = new RunMetrics();
    const feed: ConclaveEvent[] = [
      { ...base, type: "retry", model: "gpt-test", attempt: 1, delayMs: 1, reason: "rate-limited" },
      { ...base, type: "retry", model: "gpt-test", attempt: 2, delayMs: 1, reason: "rate-limited" },
      { ...base, type: "breaker", key: "openai:gpt-test", state: "open", previous: "closed" },
      { ...base, type: "breaker", key: "openai:gpt-test", state: "half-open", previous: "open" },
      { ...base, type: "breaker", key: "openai:gpt-small", state: "isolated", previous: "closed" },
      { ...base, type: "approval-decision", interruptId: "i", kind: "tool", decision: "rejected", actor: "ana" },
      { ...base, type: "approval-decision", interruptId: "j", kind: "answer", decision: "approved", actor: "ana" },
      { ...base, type: "tool-call-end", callId: "c", tool: "search", latencyMs: 3, outputChars: 0, output: "", error: "boom" },
      { ...base, type: "run-end", status: "aborted", durationMs: 1, usage: { modelCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, retries: 0, cachedCalls: 0, savedCostUsd: 0, byAgent: {}, byRound: {} } },
    ];
    feed.forEach((event) => metrics.observe(event));
    const { samples } = await scrape(metrics);
    expect(valueOf(samples, "conclave_retries_total", { model: "gpt-test" })).toBe(2);
    expect(valueOf(samples, "conclave_breaker_state", { key: "openai:gpt-test" })).toBe(1);
    expect(valueOf(samples, "conclave_breaker_state", { key: "openai:gpt-small" })).toBe(3);
    expect(valueOf(samples, "conclave_approvals_total", { decision: "rejected" })).toBe(1);
    expect(valueOf(samples, "conclave_approvals_total", { decision: "approved" })).toBe(1);
    expect(valueOf(samples, "conclave_tool_calls_total", { tool: "search", agent: "", status: "error" })).toBe(1);
    expect(valueOf(samples, "conclave_runs_total", { graph: "", status: "aborted" })).toBe(1);
  });

  it("keeps its metrics out of prom-client's global registry, so instances never collide", async () => {
    const first = new RunMetrics();
    const second = new RunMetrics();
    first.observe({ ...base, type: "retry", model: "m", attempt: 1, delayMs: 1, reason: "x" });
    expect(valueOf(parsePrometheus(await second.text()).samples, "conclave_retries_total", { model: "m" })).toBeUndefined();
    expect(await register.metrics()).not.toContain("conclave_");
    expect(first.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
