import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, cleanEnv } from "./helpers/cli.ts";

/**
 * `conclave serve` with a folder poller, as a user starts it: a real child process in its own
 * workspace, on the offline model and the research graph. Files dropped into the folder become
 * runs; the submitted versions are remembered across a restart.
 */

const BIN = join(ROOT, "src/cli/bin.js");
const CONFIG = "conclave.pollers.json";

interface Server {
  url: string;
  process: ChildProcess;
  stderr(): string;
  /** SIGTERM, as a process manager stops it; resolves with the exit code. */
  stop(): Promise<number | null>;
}

interface Run {
  id: string;
  graph: string;
  status: string;
  input: string;
  idempotencyKey?: string;
  error?: string;
}

let workspace: string;
let inbox: string;
const started: Server[] = [];

function writeConfig(folder: string, config: Record<string, unknown>): void {
  writeFileSync(join(folder, CONFIG), JSON.stringify({ graphs: { research: `${join(ROOT, "graphs/research.ts")}:graph` }, defaultGraph: "research", ...config }));
}

function envFor(folder: string): NodeJS.ProcessEnv {
  return cleanEnv({ CONCLAVE_STATE_DIR: join(folder, ".conclave") });
}

function spawnServe(folder: string): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--config", CONFIG], { cwd: folder, env: envFor(folder), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
  child.stdout!.resume();
  return { child, output: () => stderr, exit: new Promise((done) => child.on("exit", (code) => done(code))) };
}

async function startServer(): Promise<Server> {
  const { child, output, exit } = spawnServe(workspace);
  let exited = false;
  void exit.then(() => (exited = true));
  const deadline = Date.now() + 20_000;
  let match: RegExpMatchArray | null = null;
  while (!(match = output().match(/conclave serve: listening on (http:\/\/\S+)/))) {
    if (exited || Date.now() > deadline) throw new Error(`conclave serve did not start:\n${output()}`);
    await sleep(20);
  }
  const server: Server = {
    url: match[1]!,
    process: child,
    stderr: output,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      return exit;
    },
  };
  started.push(server);
  return server;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function runs(server: Server): Promise<Run[]> {
  const response = await fetch(`${server.url}/runs?limit=100`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { runs: Run[] }).runs;
}

/** Waits until the service lists `count` runs, all ended; fails on more, or on time. */
async function settledRuns(server: Server, count: number): Promise<Run[]> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    const listed = await runs(server);
    expect(listed.length, `runs listed: ${JSON.stringify(listed.map((run) => run.input))}`).toBeLessThanOrEqual(count);
    if (listed.length === count && listed.every((run) => !["queued", "running"].includes(run.status))) return listed;
    if (Date.now() > deadline) throw new Error(`expected ${count} ended runs, have ${JSON.stringify(listed.map(({ id, status }) => ({ id, status })))}\n${server.stderr()}`);
    await sleep(100);
  }
}

/** The `conclave serve: poller inbox: …` lines a server wrote, with the item → run pairs they report. */
function submissions(stderr: string): Array<{ item: string; runId: string }> {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("conclave serve: poller inbox: submitted"))
    .flatMap((line) => [...line.matchAll(/([\w.-]+) → run ([\w-]+)/g)].map((match) => ({ item: match[1]!, runId: match[2]! })));
}

const byInput = (runs: Run[], file: string) => runs.filter((run) => run.input.startsWith(`File: ${file}\n`));

beforeAll(() => {
  workspace = mkdtempSync(join(tmpdir(), "conclave-pollers-"));
  inbox = join(workspace, "inbox");
  mkdirSync(inbox);
  // A relative path: it must resolve against the workspace (the server's cwd), not the repository.
  writeConfig(workspace, { pollers: [{ type: "folder", name: "inbox", path: "inbox", intervalMs: 200, minAgeMs: 0 }] });
});

afterAll(async () => {
  for (const server of started) await server.stop();
});

describe("conclave serve with a folder poller", () => {
  let first: Server;
  let firstRuns: Run[];

  it("turns each new file into one research run that finishes", async () => {
    first = await startServer();
    expect(first.stderr()).toContain(`conclave serve: polling inbox (${inbox}, every 200 ms)`);
    writeFileSync(join(inbox, "a.md"), "What is LangGraph?\n");
    writeFileSync(join(inbox, "b.md"), "What is a checkpoint?\n");
    writeFileSync(join(inbox, "notes.json"), "{}"); // not a watched ending (.md, .txt): never a run

    firstRuns = await settledRuns(first, 2);
    // Several more polls of the unchanged folder start nothing more.
    await sleep(1_000);
    expect(await runs(first)).toHaveLength(2);

    for (const file of ["a.md", "b.md"]) {
      const [run] = byInput(firstRuns, file);
      expect(run, file).toBeDefined();
      expect(run!.status, run!.error).toBe("done");
      expect(run!.graph).toBe("research");
      expect(run!.idempotencyKey).toMatch(new RegExp(`^poll:inbox:${file.replace(".", "\\.")}:[0-9a-f]{64}$`));
    }
    // One stderr line per poll names each submitted file with the run it became.
    expect(submissions(first.stderr()).sort((a, b) => a.item.localeCompare(b.item))).toEqual(
      ["a.md", "b.md"].map((file) => ({ item: file, runId: byInput(firstRuns, file)[0]!.id })),
    );
  });

  it("an edited file starts one more run; the unchanged one does not", async () => {
    appendFileSync(join(inbox, "a.md"), "And how does it checkpoint?\n");
    const after = await settledRuns(first, 3);
    await sleep(1_000);
    expect(await runs(first)).toHaveLength(3);

    const edited = byInput(after, "a.md");
    expect(edited).toHaveLength(2);
    const newest = edited.find((run) => !firstRuns.some((old) => old.id === run.id))!;
    expect(newest.input).toContain("And how does it checkpoint?");
    expect(newest.status, newest.error).toBe("done");
    expect(newest.idempotencyKey).not.toBe(byInput(firstRuns, "a.md")[0]!.idempotencyKey);
    expect(byInput(after, "b.md")).toHaveLength(1);
    expect(submissions(first.stderr()).map((entry) => entry.item).sort()).toEqual(["a.md", "a.md", "b.md"]);
  });

  it("a restarted server does not submit unchanged files again (the poller state is saved in the state folder)", async () => {
    expect(await first.stop()).toBe(0);
    expect(first.stderr()).toContain("conclave serve: shutting down");
    const saved = JSON.parse(readFileSync(join(workspace, ".conclave", "pollers.json"), "utf8")) as { sources: Record<string, { seen: Record<string, string> }> };
    expect(Object.keys(saved.sources.inbox!.seen).sort()).toEqual(["a.md", "b.md"]);

    const second = await startServer();
    // A new file proves the restarted poller is polling; the poll that submits it sees a.md and b.md
    // too, and would submit them again (and log it) had their versions been forgotten.
    writeFileSync(join(inbox, "c.md"), "What is a supervisor agent?\n");
    const listed = await settledRuns(second, 4);
    await sleep(1_000);
    expect(await runs(second)).toHaveLength(4);
    expect(byInput(listed, "c.md")).toHaveLength(1);
    expect(byInput(listed, "c.md")[0]!.status).toBe("done");
    expect(submissions(second.stderr()).map((entry) => entry.item)).toEqual(["c.md"]);
    expect(await second.stop()).toBe(0);
  });
});

describe("conclave serve refuses a bad poller at start", () => {
  async function failedStart(pollers: unknown[]): Promise<{ code: number | null; stderr: string }> {
    const folder = mkdtempSync(join(tmpdir(), "conclave-pollers-bad-"));
    writeConfig(folder, { pollers });
    const { child, output, exit } = spawnServe(folder);
    // A server that starts anyway is a failure too: stop it after a while rather than hang.
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exit;
    clearTimeout(timer);
    return { code, stderr: output() };
  }

  it("an interval below the minimum: exit 2, naming the field and where it was set", async () => {
    const { code, stderr } = await failedStart([{ type: "folder", name: "inbox", path: "inbox", intervalMs: 50 }]);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/pollers\.0\.intervalMs: must be at least 200 ms/);
    expect(stderr).toContain(`[from file:`);
    expect(stderr).not.toContain("listening on");
  });

  it("a graph that is not registered: exit 2, naming the poller's graph field", async () => {
    const { code, stderr } = await failedStart([{ type: "folder", name: "inbox", path: "inbox" }, { type: "folder", name: "other", path: "other", graph: "no-such-graph" }]);
    expect(code, stderr).toBe(2);
    expect(stderr).toMatch(/pollers\.1\.graph: poller "other" names graph "no-such-graph", which is not registered \(registered: research\)/);
    expect(stderr).not.toContain("listening on");
  });
});
