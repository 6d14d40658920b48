import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema, attachCheckpointer, stateOf } from "../src/index.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { FakeOpenAIServer, RecordedRequest, ScriptedReply } from "../src/testing/index.ts";
import { effectTeam } from "./fixtures/effect-team.ts";
import { ROOT, cleanEnv } from "./helpers/cli.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";

const BIN = join(ROOT, "src/cli/bin.js");
const TASK = "When did Apollo 11 land on the Moon?";

/** The team's script, with research also recording a note (the side effect) beside its retrieval. */
function script(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as Array<{ role: string; content: string | null }>;
  if (roleOf(request) === "research" && messages.at(-1)!.role === "user") {
    const question = String(messages.at(-1)!.content);
    return { kind: "tool-calls", calls: [{ name: "retrieve", arguments: { query: question } }, { name: "record_note", arguments: { note: `researched: ${question}` } }] };
  }
  return teamModel(request);
}

let server: FakeOpenAIServer;
/** Called on each request before it is answered; a test sets it to hang one request and learn of it. */
let intercept: ((request: RecordedRequest) => ScriptedReply | undefined) | undefined;
let workspace: string;
let stateDir: string;

beforeAll(async () => {
  server = await startFakeOpenAIServer();
  server.setFallback({ kind: "respond", handler: (request) => intercept?.(request) ?? script(request) });
  workspace = mkdtempSync(join(tmpdir(), "conclave-kill-"));
  stateDir = join(workspace, ".conclave");
  writeFileSync(join(workspace, "conclave.config.json"), JSON.stringify({ graphs: { "effect-team": `${join(ROOT, "test/fixtures/effect-team.ts")}:effectTeam` }, defaultGraph: "effect-team" }));
});
afterAll(async () => server.close());

interface Child {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/** `conclave run …` in a child process, as a user would start it, against the scripted provider. */
function conclave(args: string[], effects: string, extra: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [BIN, "run", ...args], {
    cwd: workspace,
    env: cleanEnv({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline", CONCLAVE_STATE_DIR: stateDir, EFFECT_DIR: effects, ...extra }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const result: Child = { process: child, stdout: "", stderr: "", exit: new Promise((done) => child.on("exit", (code) => done(code))) };
  child.stdout!.on("data", (data: Buffer) => (result.stdout += data.toString()));
  child.stderr!.on("data", (data: Buffer) => (result.stderr += data.toString()));
  return result;
}

function effectsDir(name: string): string {
  const dir = join(workspace, "effects", name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The thread's final team state, read from the SQLite checkpoints the runs wrote. */
async function finalState(threadId: string): Promise<Record<string, unknown>> {
  const db = new Database(join(stateDir, "checkpoints.sqlite"), { readonly: true });
  try {
    const graph = effectTeam.build({ config: ConfigSchema.parse({}), cwd: workspace });
    attachCheckpointer(graph, new SqliteSaver(db));
    const snapshot = (await stateOf(graph, { configurable: { thread_id: threadId } }))!;
    expect(snapshot.next).toEqual([]);
    // Usage counts the calls of the process that made them; a resumed run's process made fewer.
    const { usage: _usage, ...state } = snapshot.values as Record<string, unknown>;
    return state;
  } finally {
    db.close();
  }
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : []);

describe("a run killed with SIGKILL resumes from its last checkpoint", () => {
  let reference: Record<string, unknown>;

  beforeAll(async () => {
    const effects = effectsDir("reference");
    const run = conclave(["--thread", "reference", TASK], effects);
    expect(await run.exit, run.stderr).toBe(0);
    reference = await finalState("reference");
    expect(reference.terminationReason).toBe("approved");
    expect(lines(join(effects, "effects.log"))).toHaveLength(1);
  }, 60_000);

  it("killed during a model call: the rerun finishes without redoing planning or research", async () => {
    const effects = effectsDir("model-call");
    let hung = false;
    intercept = (request) => {
      if (hung || roleOf(request) !== "writing") return undefined;
      hung = true;
      return { kind: "hang" };
    };
    const first = conclave(["--thread", "kill-model", TASK], effects);
    await until(() => hung, "the writing request");
    first.process.kill("SIGKILL");
    expect(await first.exit).toBeNull();
    intercept = undefined;
    const before = server.requests.length;

    const second = conclave(["--thread", "kill-model"], effects);
    expect(await second.exit, second.stderr).toBe(0);
    expect(second.stderr).toContain("resuming thread kill-model");
    const roles = server.requests.slice(before).map(roleOf);
    expect(roles).not.toContain("planner");
    expect(roles).not.toContain("research");
    expect(roles[0]).toBe("writing");
    expect(await finalState("kill-model")).toEqual(reference);
    expect(lines(join(effects, "effects.log"))).toHaveLength(1);
    expect(lines(join(effects, "attempts.log"))).toHaveLength(1);
  }, 60_000);

  it("killed inside a side-effecting tool call: the call runs again under the same key and its effect is applied once", async () => {
    const effects = effectsDir("tool-call");
    const first = conclave(["--thread", "kill-tool", TASK], effects, { HANG_IN_TOOL: "1" });
    await until(() => existsSync(join(effects, "hung")), "the tool call to hang");
    first.process.kill("SIGKILL");
    expect(await first.exit).toBeNull();

    const second = conclave(["--thread", "kill-tool"], effects);
    expect(await second.exit, second.stderr).toBe(0);
    expect(await finalState("kill-tool")).toEqual(reference);
    const attempts = lines(join(effects, "attempts.log"));
    expect(attempts).toHaveLength(2);
    const [firstKey, firstKind] = attempts[0]!.split(" ");
    const [secondKey, secondKind] = attempts[1]!.split(" ");
    expect(secondKey).toBe(firstKey);
    expect([firstKind, secondKind]).toEqual(["first", "retry"]);
    expect(lines(join(effects, "effects.log"))).toHaveLength(1);
  }, 60_000);

  it("killed between steps: finished nodes are not run again", async () => {
    const effects = effectsDir("between-steps");
    const first = conclave(["--thread", "kill-between", "--verbose", TASK], effects);
    await until(() => /· writing done in/.test(first.stderr), "the writing node to end");
    first.process.kill("SIGKILL");
    expect(await first.exit).toBeNull();
    const before = server.requests.length;

    const second = conclave(["--thread", "kill-between"], effects);
    expect(await second.exit, second.stderr).toBe(0);
    const roles = server.requests.slice(before).map(roleOf);
    expect(roles).not.toContain("planner");
    expect(roles).not.toContain("research");
    expect(await finalState("kill-between")).toEqual(reference);
    expect(lines(join(effects, "effects.log"))).toHaveLength(1);
    expect(lines(join(effects, "attempts.log"))).toHaveLength(1);
  }, 60_000);

  it("lists the threads with their status, and refuses to resume a finished one", async () => {
    const runs = spawn(process.execPath, [BIN, "runs", "--json"], { cwd: workspace, env: cleanEnv({ CONCLAVE_STATE_DIR: stateDir }) });
    let out = "";
    runs.stdout.on("data", (data: Buffer) => (out += data.toString()));
    await new Promise((done) => runs.on("exit", done));
    const threads = JSON.parse(out) as Array<{ threadId: string; status: string }>;
    const status = Object.fromEntries(threads.map((thread) => [thread.threadId, thread.status]));
    expect(status).toMatchObject({ reference: "done", "kill-model": "done", "kill-tool": "done", "kill-between": "done" });
    const again = conclave(["--thread", "reference"], effectsDir("again"));
    expect(await again.exit).toBe(2);
    expect(again.stderr).toContain('thread "reference" is done');
  }, 60_000);
});
