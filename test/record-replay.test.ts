import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { breakers } from "../src/index.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { runCli } from "./helpers/cli.ts";
import type { CliResult } from "./helpers/cli.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";

// A cassette is the only way to rerun a provider-backed run without the provider: these tests
// record the research team against the scripted server, then stop the server and replay.

const TASK = "When did Apollo 11 land on the Moon?";
const DRIFTED = "When did Apollo 12 land on the Moon?";

const dir = mkdtempSync(join(tmpdir(), "conclave-cassettes-"));

interface CassetteJson {
  version: number;
  meta: { graph?: string; threadId?: string; model?: { provider: string; name: string; offline: boolean }; task?: unknown };
  entries: Array<{ kind: "model" | "tool"; model?: string; tool?: string; agent?: string }>;
}

const readCassette = (path: string) => JSON.parse(readFileSync(path, "utf8")) as CassetteJson;

/** `conclave run --json --thread T …` with whatever provider env the test gives. */
function run(env: Record<string, string>, args: string[], task: string): Promise<CliResult> {
  return runCli(["run", "--json", ...args, task], { env });
}

describe("conclave run --record / --replay against an OpenAI-compatible provider", () => {
  const cassette = join(dir, "c.json");
  let server: FakeOpenAIServer;
  let env: Record<string, string>;
  let recorded: CliResult;
  let requestsWhileRecording = 0;

  beforeAll(async () => {
    server = await startFakeOpenAIServer();
    server.setFallback({ kind: "respond", handler: teamModel });
    env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline" };
    recorded = await run(env, ["--thread", "rec-1", "--record", cassette], TASK);
    requestsWhileRecording = server.requests.length;
    // From here on nothing listens at OPENAI_BASE_URL: a replay that called the model would fail.
    await server.close();
    breakers.clear();
  }, 60_000);
  afterAll(() => breakers.clear());

  it("records the run: exit 0, and a version 1 cassette holding model and tool calls", () => {
    expect(recorded.code, recorded.stderr).toBe(0);
    const output = JSON.parse(recorded.stdout) as { answer: string; threadId: string; model: unknown; verdict: string };
    expect(output).toMatchObject({ threadId: "rec-1", verdict: "approve", model: { provider: "openai-compatible", name: "fake-model", offline: false } });
    expect(output.answer).toContain("Sea of Tranquility");
    for (const request of server.requests) expect(request.violations, `request ${request.index} (${roleOf(request)})`).toEqual([]);

    const file = readCassette(cassette);
    expect(file.version).toBe(1);
    expect(file.meta).toMatchObject({ graph: "research-team", threadId: "rec-1", task: TASK, model: { provider: "openai-compatible", name: "fake-model", offline: false } });
    const models = file.entries.filter((entry) => entry.kind === "model");
    const tools = file.entries.filter((entry) => entry.kind === "tool");
    // Every chat completion the server answered is one model entry (no retries: CONCLAVE_MAX_RETRIES=0).
    expect(models).toHaveLength(requestsWhileRecording);
    expect(models.every((entry) => entry.model === "fake-model")).toBe(true);
    expect(tools.map((entry) => entry.tool)).toEqual(expect.arrayContaining(["retrieve", "check_support"]));
  });

  it("replays with the provider gone: exit 0 and stdout byte-identical to the recording run", async () => {
    const replayed = await run(env, ["--thread", "rec-1", "--replay", cassette], TASK);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stderr).toContain(`replaying ${cassette}: no model or tool is called`);
    expect(replayed.stderr).not.toContain("were not used");
    expect(replayed.stdout).toBe(recorded.stdout);
  });

  it("fails with exit 1 when the replayed run drifts, naming the first drifted request and saying to record again", async () => {
    const drifted = await run(env, ["--thread", "rec-1", "--replay", cassette], DRIFTED);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toBe("");
    expect(drifted.stderr).toMatch(new RegExp(`Replay drifted from cassette ${cassette.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} at request \\d+ of this replay: model call to "fake-model"`));
    // The planner is the first call, and its prompt holds the task: request 1 is the one that drifted.
    expect(drifted.stderr).toContain("at request 1 of this replay");
    expect(drifted.stderr).toContain("Apollo 12");
    expect(drifted.stderr).toContain(`record it again with --record ${cassette}`);
  });

  it("rejects a cassette that is not valid JSON with exit 2 and a message naming the file and the fix", async () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, readFileSync(cassette, "utf8").slice(0, 200));
    const result = await run(env, ["--thread", "rec-broken", "--replay", broken], TASK);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`Cannot replay cassette ${broken}: it is not valid JSON`);
    expect(result.stderr).toContain(`it again with --record ${broken}.`);
  });
});

describe("conclave run --record / --replay with the offline model", () => {
  it("replays an offline run with byte-identical --json output", async () => {
    const cassette = join(dir, "offline.json");
    const recorded = await run({}, ["--thread", "offline-1", "--record", cassette], "What is 17 * 23 + 4?");
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(JSON.parse(recorded.stdout)).toMatchObject({ model: { provider: "offline", offline: true }, threadId: "offline-1" });
    expect(recorded.stdout).toContain("395");
    const file = readCassette(cassette);
    expect(file.version).toBe(1);
    expect(file.entries.some((entry) => entry.kind === "model")).toBe(true);
    expect(file.entries.some((entry) => entry.kind === "tool" && entry.tool === "calculator")).toBe(true);

    const replayed = await run({}, ["--thread", "offline-1", "--replay", cassette], "What is 17 * 23 + 4?");
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe(recorded.stdout);
  });

  it("replays identically without --thread (the recorded thread id is reused) and with the response cache on while recording", async () => {
    const cassette = join(dir, "offline-cache.json");
    const recorded = await run({ CONCLAVE_CACHE: "memory" }, ["--record", cassette], "Who discovered penicillin?");
    expect(recorded.code, recorded.stderr).toBe(0);
    expect((JSON.parse(recorded.stdout) as { usage: { cachedCalls: number } }).usage.cachedCalls).toBe(0);
    const replayed = await run({}, ["--replay", cassette], "Who discovered penicillin?");
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(replayed.stdout).toBe(recorded.stdout);
  });
});
