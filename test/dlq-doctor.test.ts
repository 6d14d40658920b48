import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { breakers } from "../src/index.ts";
import { startFakeOpenAIServer, unusedPort } from "../src/testing/index.ts";
import type { FakeOpenAIServer, RecordedRequest, ScriptedReply } from "../src/testing/index.ts";
import { ROOT, runCli } from "./helpers/cli.ts";

let server: FakeOpenAIServer;
let cwd: string;
beforeEach(async () => {
  server = await startFakeOpenAIServer();
  // A project of the user's own: a config that registers the research graph by absolute path.
  cwd = mkdtempSync(join(tmpdir(), "conclave-project-"));
  writeFileSync(join(cwd, "conclave.config.json"), JSON.stringify({ graphs: { research: join(ROOT, "graphs/research.ts:graph") }, defaultGraph: "research" }));
});
afterEach(async () => {
  await server.close();
  breakers.clear();
});

/** Each test has its own project folder, with its state (threads, dead letters) inside it. */
function conclave(argv: string[], env: Record<string, string> = {}) {
  return runCli(argv, { env: { CONCLAVE_STATE_DIR: join(cwd, ".conclave"), ...env }, cwd });
}

/** A provider that works again: calls the calculator, then answers with its result. */
function workingProvider(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as Array<{ role: string; content: string }>;
  const last = messages.at(-1)!;
  if (last.role === "user") return { kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression: "2 + 3" } }] };
  return { kind: "text", content: `The result: ${last.content}` };
}

describe("conclave dlq", () => {
  it("keeps a run that failed for good and replays it once the fault clears", async () => {
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "1" };
    server.setFallback({ kind: "error", status: 503 });
    const failed = await conclave(["run", "What is 2 + 3?"], env);
    expect(failed.code).toBe(1);
    const id = /dead-letter queue as (\w+)/.exec(failed.stderr)?.[1];
    expect(id, failed.stderr).toBeDefined();
    expect(server.requests).toHaveLength(2);

    const listed = JSON.parse((await conclave(["dlq", "list", "--json"], env)).stdout) as Array<Record<string, unknown>>;
    expect(listed).toEqual([expect.objectContaining({ id, kind: "run", graph: "research", input: "What is 2 + 3?", attempts: 2, status: "dead", error: expect.objectContaining({ code: "PROVIDER_FAILED" }) })]);
    expect(listed[0]!.traceId).toMatch(/^[0-9a-f-]{36}$/);

    server.setFallback({ kind: "respond", handler: workingProvider });
    const replayed = await conclave(["dlq", "replay", id!], env);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toContain(`${id} replayed: The result: 2 + 3 = 5`);
    const shown = JSON.parse((await conclave(["dlq", "show", id!], env)).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ status: "replayed", result: expect.objectContaining({ answer: "The result: 2 + 3 = 5" }) });

    expect((await conclave(["dlq", "replay", "--all"], env)).stdout).toBe("Nothing to replay.\n");
    expect((await conclave(["dlq", "drop", id!], env)).code).toBe(0);
    const missing = await conclave(["dlq", "show", id!], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No dead letter with id "${id}"`);
  });

  it("keeps the flags exactly, and refuses a replay that another model would answer", async () => {
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0" };
    server.setFallback({ kind: "error", status: 503 });
    const failed = await conclave(["run", "--max-rounds", "2", "What is 2 plus 2"], env);
    const id = /dead-letter queue as (\w+)/.exec(failed.stderr)![1]!;
    const letter = JSON.parse((await conclave(["dlq", "show", id], env)).stdout) as { options: { argv: string[]; model: { provider: string; name: string } } };
    expect(letter.options.argv).toEqual(["--max-rounds", "2", "What is 2 plus 2"]);
    expect(letter.options.model).toMatchObject({ provider: "openai-compatible", name: "fake-model" });
    // Without the provider's settings the offline model would answer: the letter stays dead.
    const elsewhere = await conclave(["dlq", "replay", id]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("but the replay used offline/conclave-offline; it stays dead");
    expect(JSON.parse((await conclave(["dlq", "show", id])).stdout)).toMatchObject({ status: "dead" });
  });

  it("does not keep runs that failed for reasons a replay cannot fix", async () => {
    // A step limit is the graph's or the caller's problem, not the provider's.
    const stopped = await conclave(["run", "--step-limit", "1", "What is 2 + 3?"]);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("stopped after 1 graph steps");
    expect((await conclave(["dlq", "list"])).stdout).toBe("The dead-letter queue is empty.\n");
  });
});

describe("conclave doctor", () => {
  it("reports a reachable provider with its latency and breaker, and passes", async () => {
    const { code, stdout } = await conclave(["doctor", "--json"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "fake-model" });
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string; latencyMs?: number; breaker?: string }> };
    const model = report.checks.find((check) => check.name === "model")!;
    expect(model).toMatchObject({ ok: true, breaker: "closed" });
    expect(model.detail).toContain("reachable, model listed");
    expect(model.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("fails, saying what to fix, when a provider cannot be reached", async () => {
    const port = await unusedPort();
    const { code, stdout } = await conclave(["doctor"], { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: "k" });
    expect(code).toBe(1);
    expect(stdout).toMatch(/✖ model\s+gpt-4o-mini at http:\/\/127\.0\.0\.1:\d+\/v1: unreachable .* Start the server or fix OPENAI_BASE_URL/);
    expect(stdout).toContain("Some checks failed");
  });

  it.runIf(Boolean(process.env.REDIS_URL))("checks the Redis cache it is configured with", async () => {
    const { code, stdout } = await conclave(["doctor"], { CONCLAVE_CACHE: "redis", REDIS_URL: process.env.REDIS_URL! });
    expect(code).toBe(0);
    expect(stdout).toMatch(/✔ cache\s+redis: writes and reads/);
  });
});
