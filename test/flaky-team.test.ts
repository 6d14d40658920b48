import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createResearchTeam } from "../graphs/research-team.ts";
import { ConfigSchema, breakers, createChatModel, run } from "../src/index.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer, ScriptedReply } from "../src/testing/index.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";

/** A small seeded generator, so the storm is the same on every run of the test. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(async () => {
  await server.close();
  breakers.clear();
});

describe("the research team through a flaky provider", () => {
  it("finishes every run through 30% 429s (Retry-After 1) and 10% 500s, within the retry budget", async () => {
    const random = seeded(42);
    const faults = { rateLimited: 0, serverErrors: 0 };
    server.setFallback({
      kind: "respond",
      handler: (request): ScriptedReply => {
        const draw = random();
        if (draw < 0.3) return (faults.rateLimited++, { kind: "error", status: 429, headers: { "retry-after": "1" } });
        if (draw < 0.4) return (faults.serverErrors++, { kind: "error", status: 500 });
        return teamModel(request);
      },
    });
    const { model, info } = createChatModel({ provider: "openai", name: "gpt-4o-mini", baseUrl: server.url, apiKey: "k", timeoutMs: 10_000, maxRetries: 0 });
    const graph = createResearchTeam({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-flaky-")) });
    const maxRetries = 6;
    const report: string[] = [];
    for (const task of ["When did Apollo 11 land on the Moon?", "Who discovered penicillin?"]) {
      const before = server.requests.length;
      const { state, usage } = await run(graph, { task }, { model, modelInfo: info, resilience: { maxRetries, baseDelayMs: 20, retryBudget: 60 } });
      const httpCalls = server.requests.length - before;
      expect(state.terminationReason).toBe("approved");
      expect(state.final?.citations.length).toBeGreaterThan(0);
      // Every HTTP call is a first try or a counted retry, and no logical call exceeded 1 + maxRetries.
      expect(httpCalls).toBe(usage.modelCalls + usage.retries);
      expect(httpCalls / usage.modelCalls).toBeLessThanOrEqual(1 + maxRetries);
      report.push(`${task}: ${usage.modelCalls} logical calls, ${httpCalls} HTTP calls (${(httpCalls / usage.modelCalls).toFixed(2)} per logical call)`);
    }
    for (const request of server.requests) expect(request.violations, `request ${request.index} (${roleOf(request)})`).toEqual([]);
    expect(faults.rateLimited).toBeGreaterThan(0);
    expect(faults.serverErrors).toBeGreaterThan(0);
    console.log(`flaky provider: ${faults.rateLimited} × 429, ${faults.serverErrors} × 500 injected\n  ${report.join("\n  ")}`);
  }, 120_000);
});
