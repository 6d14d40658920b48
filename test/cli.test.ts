import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { chunkDocuments, readCorpus } from "../tools/retrieve/corpus.ts";
import { BUNDLED_CORPUS } from "../tools/retrieve/index.ts";
import { unusedPort } from "../src/testing/index.ts";
import { cleanEnv, runCli } from "./helpers/cli.ts";
import type { CliResult } from "./helpers/cli.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };

type Captured = CliResult;

function cli(argv: string[], options: { env?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Captured> {
  return runCli(argv, options);
}

/** Usage errors are one line on stderr, nothing on stdout. */
function expectOneLineFailure(result: Captured, code: number): string {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe("");
  expect(result.stderr.endsWith("\n")).toBe(true);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  return result.stderr.trim();
}

const CALCULATION = "What is 17 * 23 + 4?";

describe("conclave run (in-process)", () => {
  it("answers an arithmetic question with the calculator and says the offline model answered", async () => {
    const result = await cli(["run", CALCULATION]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("395");
    expect(result.stderr).toMatch(/→ calculator \{"expression":"17 \* 23 \+ 4"\}/);
    expect(result.stderr).toMatch(/model: conclave-offline \(offline/);
    expect(result.stderr).toMatch(/answered by the offline model/);
    // Progress goes to stderr only.
    expect(result.stdout).not.toMatch(/→|model:|offline/);
  });

  it("--quiet prints the answer and no progress", async () => {
    const result = await cli(["run", "--quiet", CALCULATION]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("395");
    expect(result.stderr).toBe("");
  });

  it("--json prints exactly one JSON object with the answer, model, thread and usage", async () => {
    const result = await cli(["run", "--graph", "research", "--json", "--thread", "thread-abc", CALCULATION]);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(output).sort()).toEqual(["answer", "citations", "graph", "model", "threadId", "usage"]);
    expect(output.answer).toContain("395");
    expect(output.citations).toEqual([]);
    expect(output.graph).toBe("research");
    expect(output.model).toEqual({ provider: "offline", name: expect.any(String), offline: true });
    expect(output.threadId).toBe("thread-abc");
    const usage = output.usage as Record<string, number>;
    expect(usage.modelCalls).toBeGreaterThanOrEqual(2);
    expect(usage.toolCalls).toBeGreaterThanOrEqual(1);
    expect(usage.totalTokens).toBe(usage.inputTokens! + usage.outputTokens!);
  });

  it("cites passages of the bundled corpus whose text is in the cited document", async () => {
    const result = await cli(["run", "--json", "--quiet", "Who set up the first printing press in England?"]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { answer: string; citations: Array<{ source: string; text: string }> };
    expect(output.answer).toMatch(/Caxton/);
    expect(output.citations.length).toBeGreaterThan(0);
    const documents = readCorpus(BUNDLED_CORPUS);
    const passages = new Set(chunkDocuments(documents).map((passage) => passage.id));
    for (const citation of output.citations) {
      expect(passages.has(citation.source), citation.source).toBe(true);
      const document = documents.find((candidate) => candidate.id === citation.source.replace(/#\d+$/, ""));
      const text = citation.text.replace(/\[[^\]\s]+\]/g, "").trim();
      expect(text.length).toBeGreaterThan(10);
      expect(document!.text.replace(/\s+/g, " ")).toContain(text);
    }
    expect(output.answer).toContain(`[${output.citations[0]!.source}]`);
  });

  it("exits 1 when the run is aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop now"));
    const result = await cli(["run", "--quiet", CALCULATION], { signal: controller.signal });
    expect(expectOneLineFailure(result, 1)).toMatch(/aborted/);
  });

  it("exits 1 with a one-line reason and fix when the provider cannot be reached", async () => {
    const port = await unusedPort();
    const result = await cli(["run", CALCULATION], { env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: "x", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_TIMEOUT_MS: "2000" } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(`model: gpt-4o-mini via openai-compatible at http://127.0.0.1:${port}/v1`);
    const last = result.stderr.trimEnd().split("\n").at(-1)!;
    expect(last.startsWith(`conclave: error: Cannot reach the model provider at http://127.0.0.1:${port}/v1`)).toBe(true);
    expect(last).toMatch(/fix OPENAI_BASE_URL/);
    expect(last).toMatch(/offline model/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("conclave usage errors exit 2", () => {
  it("an unknown flag is named", async () => {
    const message = expectOneLineFailure(await cli(["run", "--bogus", "x"]), 2);
    expect(message).toContain("--bogus");
    expect(message).toContain("conclave run --help");
  });

  it("a missing task, for a graph that bundles no sample", async () => {
    const env = { CONCLAVE_CONFIG: path.join(ROOT, "test/fixtures/mailroom.config.json") };
    expect(expectOneLineFailure(await cli(["run", "--graph", "mailroom"], { env }), 2)).toMatch(/missing the task \(graph "mailroom" bundles no sample\)/);
    expect(expectOneLineFailure(await cli(["run", "--graph", "mailroom", "  "], { env }), 2)).toMatch(/missing the task/);
  });

  it("no task runs the graph's bundled sample, offline", async () => {
    const result = await cli(["run"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("no task given: running research-team's sample input: Who discovered penicillin?");
    expect(result.stdout).toContain("Fleming");
  });

  it("an unknown graph names the registered ones", async () => {
    const message = expectOneLineFailure(await cli(["run", "--graph", "nope", "x"]), 2);
    expect(message).toMatch(/No graph named "nope"/);
    expect(message).toMatch(/Registered graphs: research/);
  });

  it.each(["abc", "0", "2.5"])("--step-limit %s", async (value) => {
    const message = expectOneLineFailure(await cli(["run", "--step-limit", value, "x"]), 2);
    expect(message).toContain(`--step-limit needs a positive whole number, got "${value}"`);
  });

  it("--step-limit=-3", async () => {
    expect(expectOneLineFailure(await cli(["run", "--step-limit=-3", "x"]), 2)).toContain('got "-3"');
  });

  it("a flag without its value", async () => {
    const message = expectOneLineFailure(await cli(["run", "x", "--graph"]), 2);
    expect(message).toMatch(/--graph.*argument missing/);
  });

  // Regression: node's parseArgs reports an ambiguous flag value over three lines.
  it("a flag whose value is missing before another flag is reported in one line", async () => {
    const message = expectOneLineFailure(await cli(["run", "x", "--model", "--json"]), 2);
    expect(message).toContain("--model");
  });

  it("an unknown command, and help for one", async () => {
    expect(expectOneLineFailure(await cli(["frobnicate"]), 2)).toMatch(/unknown command "frobnicate".*run, runs, pending, approve, reject, inspect, fork, metrics, audit, eval, graphs, config/);
    expect(expectOneLineFailure(await cli(["help", "frobnicate"]), 2)).toMatch(/unknown command "frobnicate"/);
  });

  it("a --corpus folder that does not exist is a configuration error (exit 2), not an empty answer", async () => {
    const message = expectOneLineFailure(await cli(["run", "--corpus", "/nonexistent/corpus", "Who built the first printing press?"]), 2);
    expect(message).toContain("The corpus folder /nonexistent/corpus does not exist");
  });

  it("a bad config value from the environment names the field and the variable", async () => {
    const result = await cli(["run", CALCULATION], { env: { CONCLAVE_TIMEOUT_MS: "-1" } });
    expect(result.stdout).toBe("");
    expect(expectOneLineFailure(result, 2)).toMatch(/model\.timeoutMs: .*\[from env:CONCLAVE_TIMEOUT_MS\]/);
    expect(result.stderr).not.toMatch(/model: conclave-offline/);
  });

  it("a missing --config file", async () => {
    const result = await cli(["config", "--config", "no-such-config.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path.join(ROOT, "no-such-config.json"));
  });
});

describe("help, graphs and config", () => {
  it.each([{ argv: ["--help"] }, { argv: ["-h"] }, { argv: [] }])("main help for $argv", async ({ argv }) => {
    const result = await cli(argv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^conclave — /);
    for (const command of ["conclave run", "conclave graphs", "conclave config", "Exit codes"]) expect(result.stdout).toContain(command);
    expect(result.stderr).toBe("");
  });

  it.each([{ argv: ["run", "--help"] }, { argv: ["help", "run"] }, { argv: ["run", "-h", "some task"] }])("run help for $argv", async ({ argv }) => {
    const result = await cli(argv);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^conclave run — /);
    for (const flag of ["--graph", "--model", "--step-limit", "--json", "--quiet"]) expect(result.stdout).toContain(flag);
  });

  it("help config and help graphs", async () => {
    expect((await cli(["help", "config"])).stdout).toMatch(/^conclave config — [\s\S]*CONCLAVE_TIMEOUT_MS/);
    expect((await cli(["graphs", "--help"])).stdout).toMatch(/^conclave graphs — /);
  });

  it("--version prints the package version", async () => {
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${PACKAGE.version}\n`, stderr: "" });
  });

  it("graphs lists every registered graph, the research team as the default", async () => {
    const result = await cli(["graphs"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^research-team\s+.*verification.*\(default\)$/m);
    expect(result.stdout).toMatch(/^research\s+.*calculator/m);
    expect(result.stdout).toContain("./graphs/research.ts:graph");
    const json = JSON.parse((await cli(["graphs", "--json"])).stdout) as Array<Record<string, unknown>>;
    expect(json.slice(0, 3)).toEqual([
      expect.objectContaining({ name: "research-team", target: "./graphs/research-team.ts:graph", default: true }),
      expect.objectContaining({ name: "debate", target: "./graphs/debate.ts:graph", default: false }),
      expect.objectContaining({ name: "research", target: "./graphs/research.ts:graph", default: false }),
    ]);
    // The pattern examples follow (test/examples.test.ts runs each one).
    expect(json.filter((row) => row.default)).toHaveLength(1);
  });

  it("config shows each setting with its source and the auto resolution", async () => {
    const result = await cli(["config"], { env: { CONCLAVE_MODEL: "llama-test" } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`config file: ${ROOT}conclave.config.json`);
    expect(result.stdout).toMatch(/^defaultGraph\s+research-team\s+file:/m);
    expect(result.stdout).toMatch(/^model\.provider\s+auto \(→ offline\)\s+default$/m);
    expect(result.stdout).toMatch(/^model\.name\s+llama-test\s+env:CONCLAVE_MODEL$/m);
  });

  it("config --json is one object with the file and redacted settings", async () => {
    const result = await cli(["config", "--json"], { env: { OPENAI_API_KEY: "sk-live-abcdefghijklmnop" } });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain("sk-live-abcdefghijklmnop");
    const output = JSON.parse(result.stdout) as { file: string | null; settings: Array<{ path: string; value: unknown; source: string }> };
    expect(output.file).toBe(`${ROOT}conclave.config.json`);
    const byPath = new Map(output.settings.map((row) => [row.path, row]));
    expect(byPath.get("model.provider")?.value).toBe("auto (→ openai)");
    expect(byPath.get("model.apiKey")).toEqual({ path: "model.apiKey", value: expect.stringMatching(/^\*\*\*/), source: "env:OPENAI_API_KEY" });
  });
});

describe("the real process", () => {
  const spawnOptions = { cwd: ROOT, env: cleanEnv(), encoding: "utf8" as const, timeout: 60_000 };

  it("src/cli/bin.js run answers offline", () => {
    const result = spawnSync("node", ["src/cli/bin.js", "run", CALCULATION], spawnOptions);
    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("395");
    expect(result.stderr).toMatch(/\(offline — the built-in deterministic model/);
  }, 70_000);

  it("npm start answers offline", () => {
    const result = spawnSync("npm", ["start", "--silent", "--", CALCULATION], spawnOptions);
    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/395/);
    expect(result.stderr).toMatch(/answered by the offline model/);
  }, 70_000);
});
