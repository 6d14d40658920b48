import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { breakers } from "../src/index.ts";
import { startFakeOpenAIServer, unusedPort } from "../src/testing/index.ts";
import type { FakeOpenAIServer, RecordedRequest, ScriptedReply } from "../src/testing/index.ts";
import { ROOT, STATE_DIR, runCli } from "./helpers/cli.ts";
import type { CliResult } from "./helpers/cli.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";

// An API key must never leave the process except towards the provider. This file runs the CLI with
// a random canary key and every output switched on (cassette, OTLP traces, debug logs, audit log,
// --json), makes the provider echo the key back into the conversation, and then looks for the key
// in every byte the run left behind.

const CANARY = `sk-canary-${randomBytes(12).toString("hex")}`;
const TASK = "When did Apollo 11 land on the Moon?";
const THREAD = "canary-1";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}
interface OtlpBody {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** A local OTLP/HTTP receiver keeping the raw text of every POST /v1/traces. */
function otlpReceiver() {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method === "POST" && request.url === "/v1/traces") bodies.push(Buffer.concat(chunks).toString("utf8"));
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return { server, bodies };
}

const spansOf = (bodies: string[]) => bodies.flatMap((text) => (JSON.parse(text) as OtlpBody).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)));

/** The team's script, except that research's final answer repeats the bearer token it was sent, as a careless provider or prompt injection might. */
function leakingModel(request: RecordedRequest): ScriptedReply {
  const reply = teamModel(request);
  if (roleOf(request) !== "research" || reply.kind !== "text") return reply;
  const token = String(request.headers.authorization ?? "").replace(/^Bearer\s+/i, "");
  return { kind: "text", content: `On 20 July 1969, using key ${token}, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]` };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const holdsCanary = (path: string) => readFileSync(path).includes(CANARY);

let server: FakeOpenAIServer;
/** Whether the provider echoes the key (off for the run that tests a key in the task, so the task is the key's only way in). */
let leak = true;
const receiver = otlpReceiver();
let otlpEndpoint = "";
/** The CLI's working folder: it registers the bundled research team, and catches what the CLI writes relative to cwd (the dead-letter queue). */
let workspace = "";
const cassette = join(STATE_DIR, "canary.json");

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: CANARY, CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", ...extra };
}

const cli = (argv: string[], extra: Record<string, string> = {}) => runCli(argv, { env: env(extra), cwd: workspace });

beforeAll(async () => {
  server = await startFakeOpenAIServer();
  server.setFallback({ kind: "respond", handler: (request) => (leak ? leakingModel(request) : teamModel(request)) });
  await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
  otlpEndpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  workspace = mkdtempSync(join(tmpdir(), "conclave-canary-"));
  writeFileSync(join(workspace, "conclave.config.json"), JSON.stringify({ graphs: { "research-team": `${join(ROOT, "graphs/research-team.ts")}:graph` }, defaultGraph: "research-team" }));
});
afterAll(async () => {
  await server.close();
  await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
  breakers.clear();
});

describe("a canary API key never leaves the process except towards the provider", () => {
  let result: CliResult;
  let spanBodies: string[];

  beforeAll(async () => {
    const before = receiver.bodies.length;
    result = await cli(["run", "--json", "--thread", THREAD, "--record", cassette, "--log-level", "debug", TASK], { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_SERVICE_NAME: "conclave-canary" });
    spanBodies = receiver.bodies.slice(before);
  }, 60_000);

  it("the key reached the provider and came back into the conversation, so absence below is redaction", () => {
    expect(result.code, result.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThan(0);
    for (const request of server.requests) expect(request.headers.authorization).toBe(`Bearer ${CANARY}`);
    // Research echoed the key; the roles after it were sent it in their prompts.
    const echoed = server.requests.filter((request) => JSON.stringify(request.body.messages).includes(CANARY));
    expect(echoed.map(roleOf)).toEqual(expect.arrayContaining(["writing", "verification"]));
    // The redacted form is what the user sees.
    expect(JSON.parse(result.stdout).answer).toContain("using key [REDACTED]");
  });

  it("is not on stdout or stderr", () => {
    expect(result.stdout).not.toContain(CANARY);
    expect(result.stderr).not.toContain(CANARY);
  });

  it("is not in the debug log, the audit log or the cassette", () => {
    const log = join(STATE_DIR, "conclave.log");
    const audit = join(STATE_DIR, "audit.jsonl");
    for (const file of [log, audit, cassette]) expect(existsSync(file), file).toBe(true);
    // Debug level really was on: the check covers the most verbose log there is.
    expect(readFileSync(log, "utf8").split("\n").some((line) => line.includes('"level":"debug"'))).toBe(true);
    expect(readFileSync(cassette, "utf8")).toContain("[REDACTED]");
    for (const file of [log, audit, cassette]) expect(holdsCanary(file), file).toBe(false);
  });

  it("is not in the checkpoints: the raw bytes of checkpoints.sqlite and its WAL", () => {
    const files = ["checkpoints.sqlite", "checkpoints.sqlite-wal"].map((name) => join(STATE_DIR, name)).filter(existsSync);
    expect(files).toContain(join(STATE_DIR, "checkpoints.sqlite"));
    for (const file of files) expect(holdsCanary(file), file).toBe(false);
  });

  it("is not in the thread store: the raw bytes of runs.sqlite and its WAL", () => {
    const files = ["runs.sqlite", "runs.sqlite-wal"].map((name) => join(STATE_DIR, name)).filter(existsSync);
    expect(files).toContain(join(STATE_DIR, "runs.sqlite"));
    for (const file of files) expect(holdsCanary(file), file).toBe(false);
  });

  it("is in no file the run left anywhere (state folder and working folder)", () => {
    const leaking = [...filesUnder(STATE_DIR), ...filesUnder(workspace)].filter(holdsCanary);
    expect(leaking).toEqual([]);
  });

  it("is in no exported span, and the spans form one well-formed trace", () => {
    expect(spanBodies.length).toBeGreaterThan(0);
    for (const body of spanBodies) expect(body).not.toContain(CANARY);
    const spans = spansOf(spanBodies);
    expect(spans.length).toBeGreaterThan(1);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    const roots = spans.filter((span) => !span.parentSpanId);
    expect(roots.map((span) => span.name)).toEqual(["conclave.run research-team"]);
    const ids = new Set(spans.map((span) => span.spanId));
    expect(ids.size).toBe(spans.length);
    for (const span of spans.filter((item) => item.parentSpanId)) expect(ids.has(span.parentSpanId!), `parent of ${span.name}`).toBe(true);
  });

  it("is not in conclave inspect --json", async () => {
    const inspected = await cli(["inspect", THREAD, "--json"]);
    expect(inspected.code, inspected.stderr).toBe(0);
    // The leaked answer is in the history, masked.
    expect(inspected.stdout).toContain("[REDACTED]");
    expect(inspected.stdout).not.toContain(CANARY);
    expect(inspected.stderr).not.toContain(CANARY);
  });

  it("is not in conclave runs, as JSON or as text", async () => {
    const listed = await cli(["runs", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const threads = JSON.parse(listed.stdout) as Array<{ threadId: string; status: string }>;
    expect(threads.find((thread) => thread.threadId === THREAD)?.status).toBe("done");
    expect(listed.stdout).not.toContain(CANARY);
    const text = await cli(["runs"]);
    expect(text.stdout).not.toContain(CANARY);
  });
});

describe("a canary key pasted into the task", () => {
  it("is masked in everything the run keeps and prints", async () => {
    const state = mkdtempSync(join(tmpdir(), "conclave-canary-task-"));
    const recording = join(state, "task.json");
    const task = `${TASK} (my key is ${CANARY})`;
    const before = server.requests.length;
    leak = false;
    const result = await cli(["run", "--json", "--thread", "canary-task", "--record", recording, "--log-level", "debug", task], { CONCLAVE_STATE_DIR: state }).finally(() => (leak = true));
    expect(result.code, result.stderr).toBe(0);
    // The planner was sent the task as given: the provider saw the key in the prompt.
    expect(server.requests.slice(before).some((request) => JSON.stringify(request.body.messages).includes(CANARY))).toBe(true);
    expect(result.stdout).not.toContain(CANARY);
    expect(result.stderr).not.toContain(CANARY);
    expect(JSON.parse(readFileSync(recording, "utf8")).meta.task).toBe(`${TASK} (my key is [REDACTED])`);
    const listed = await cli(["runs", "--json"], { CONCLAVE_STATE_DIR: state });
    expect(listed.stdout).toContain("canary-task");
    expect(listed.stdout).not.toContain(CANARY);
    expect(filesUnder(state).filter(holdsCanary)).toEqual([]);
  }, 60_000);
});

describe("a canary key in an answer that waits for approval", () => {
  // The answer under review is in the pending approval: stored, printed and listed redacted.
  it("is masked in the paused run's output, conclave pending and the thread store", async () => {
    const state = mkdtempSync(join(tmpdir(), "conclave-canary-pause-"));
    const paused = await cli(["run", "--json", "--thread", "canary-pause", "--approve-answer", TASK], { CONCLAVE_STATE_DIR: state });
    const pendingJson = await cli(["pending", "--json"], { CONCLAVE_STATE_DIR: state });
    const pendingText = await cli(["pending"], { CONCLAVE_STATE_DIR: state });
    const runs = await cli(["runs", "--json"], { CONCLAVE_STATE_DIR: state });
    // The run did pause on the leaked answer: what follows is about redaction only.
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain("using key ");
    expect(pendingJson.stdout).toContain("canary-pause");
    const leaks = Object.entries({ "run stdout": paused.stdout, "run stderr": paused.stderr, "pending --json": pendingJson.stdout, pending: pendingText.stdout, "runs --json": runs.stdout })
      .filter(([, text]) => text.includes(CANARY))
      .map(([where]) => where)
      .concat(filesUnder(state).filter(holdsCanary));
    expect(leaks).toEqual([]);
  }, 60_000);
});

describe("a canary key in an error's path", () => {
  it("is not in what a run against a dead provider prints, nor in the dead letter it leaves", async () => {
    // Its own state and working folders, so only this failed run is searched.
    const state = mkdtempSync(join(tmpdir(), "conclave-canary-dead-"));
    const cwd = mkdtempSync(join(tmpdir(), "conclave-canary-dead-cwd-"));
    writeFileSync(join(cwd, "conclave.config.json"), readFileSync(join(workspace, "conclave.config.json")));
    const deadUrl = `http://127.0.0.1:${await unusedPort()}/v1`;
    const dead = (argv: string[]) => runCli(argv, { env: env({ OPENAI_BASE_URL: deadUrl, CONCLAVE_STATE_DIR: state }), cwd });
    const failed = await dead(["run", "--json", "--thread", "canary-dead", "--timeout", "5", "--log-level", "debug", TASK]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toMatch(/conclave: error: /);
    expect(failed.stderr).not.toContain(CANARY);
    // The failed run is kept in the dead-letter queue (under the working folder) and in the thread store.
    expect(filesUnder(state).some((file) => file.endsWith("dlq.sqlite"))).toBe(true);
    expect([...filesUnder(state), ...filesUnder(cwd)].filter(holdsCanary)).toEqual([]);
    const listed = await dead(["runs", "--json"]);
    const thread = (JSON.parse(listed.stdout) as Array<{ threadId: string; status: string; error?: string }>).find((item) => item.threadId === "canary-dead");
    expect(thread?.status).toBe("failed");
    expect(listed.stdout).not.toContain(CANARY);
    const letters = await dead(["dlq", "list", "--json"]);
    expect(letters.code, letters.stderr).toBe(0);
    expect(letters.stdout).toContain("canary-dead");
    expect(letters.stdout).not.toContain(CANARY);
  }, 60_000);

  // A dead letter keeps the task and argv, redacted.
  it("is masked in the dead letter of a failed run whose task holds it", async () => {
    const state = mkdtempSync(join(tmpdir(), "conclave-canary-dlq-"));
    const cwd = mkdtempSync(join(tmpdir(), "conclave-canary-dlq-cwd-"));
    writeFileSync(join(cwd, "conclave.config.json"), readFileSync(join(workspace, "conclave.config.json")));
    const deadUrl = `http://127.0.0.1:${await unusedPort()}/v1`;
    const dead = (argv: string[]) => runCli(argv, { env: env({ OPENAI_BASE_URL: deadUrl, CONCLAVE_STATE_DIR: state }), cwd });
    const failed = await dead(["run", "--thread", "canary-dlq", "--timeout", "5", `${TASK} (my key is ${CANARY})`]);
    const letters = await dead(["dlq", "list", "--json"]);
    // The run failed at the provider and was kept: what follows is about redaction only.
    expect(failed.code).toBe(1);
    expect(letters.stdout).toContain("my key is");
    const leaks = Object.entries({ "run stderr": failed.stderr, "dlq list --json": letters.stdout })
      .filter(([, text]) => text.includes(CANARY))
      .map(([where]) => where)
      .concat([...filesUnder(state), ...filesUnder(cwd)].filter(holdsCanary));
    expect(leaks).toEqual([]);
  }, 60_000);
});
