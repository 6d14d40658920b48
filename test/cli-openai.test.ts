import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { FakeOpenAIServer, RecordedRequest } from "../src/testing/index.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";
import { useFakeServer } from "./helpers/fake-server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs the real `conclave` bin as a user would, without blocking this process's event loop (the server lives here). */
function conclave(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OPENAI_") && !key.startsWith("CONCLAVE_"))) as Record<string, string>;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["src/cli/bin.js", ...args], { cwd: root, env: { ...base, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let server: FakeOpenAIServer;
useFakeServer((started) => (server = started));

function lastToolResult(request: RecordedRequest): string {
  const tool = [...request.body.messages].reverse().find((message: { role: string }) => message.role === "tool");
  return String(tool?.content ?? "");
}

describe("conclave run against an OpenAI-compatible endpoint", () => {
  it("sends the ReAct loop's requests to OPENAI_BASE_URL and prints the server's answer", async () => {
    server.enqueue(
      { kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression: "17 * 23 + 4" }, id: "call_calc" }] },
      { kind: "respond", handler: (request) => ({ kind: "text", content: `The server computed: ${lastToolResult(request)}` }) },
    );
    const { code, stdout, stderr } = await conclave(["run", "--graph", "research", "--json", "What is 17 * 23 + 4?"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", LANGSMITH_TRACING: "false" });
    expect(stderr).toContain(`via openai-compatible at ${server.url}`);
    expect(stderr).toContain('→ calculator {"expression":"17 * 23 + 4"}');
    expect(code).toBe(0);
    const output = JSON.parse(stdout.trim());
    expect(output.answer).toBe("The server computed: 17 * 23 + 4 = 395");
    expect(output.model).toEqual({ provider: "openai-compatible", name: "fake-model", offline: false });
    expect(output.usage.modelCalls).toBe(2);
    expect(server.requests).toHaveLength(2);
    for (const request of server.requests) {
      expect(request.violations).toEqual([]);
      expect(request.body.model).toBe("fake-model");
      expect(request.headers.authorization).toBe("Bearer test-key");
    }
    const names = server.requests[0]!.body.tools.map((tool: { function: { name: string } }) => tool.function.name);
    expect(names).toEqual(["calculator", "retrieve", "read_file"]);
    expect(server.requests[1]!.body.messages.at(-1)).toMatchObject({ role: "tool", tool_call_id: "call_calc", content: "17 * 23 + 4 = 395" });
  }, 60_000);

  it("runs the default research team against the endpoint with valid requests", async () => {
    server.setFallback({ kind: "respond", handler: teamModel });
    const { code, stdout, stderr } = await conclave(["run", "--json", "When did Apollo 11 land on the Moon?"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", LANGSMITH_TRACING: "false" });
    expect(stderr, stderr).toContain("── critique round 1");
    expect(code).toBe(0);
    const output = JSON.parse(stdout.trim());
    expect(output).toMatchObject({ graph: "research-team", verdict: "approve", terminationReason: "approved", model: { offline: false } });
    expect(output.answer).toBe("On 20 July 1969, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]");
    for (const request of server.requests) expect(request.violations, `request ${request.index} (${roleOf(request)})`).toEqual([]);
    expect(new Set(server.requests.map(roleOf)).size).toBe(5);
  }, 60_000);

  it("exits 1 with a one-line reason when the provider keeps failing", async () => {
    server.setFallback({ kind: "error", status: 503 });
    const { code, stdout, stderr } = await conclave(["run", "hello"], { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MAX_RETRIES: "1", LANGSMITH_TRACING: "false" });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const errorLine = stderr.split("\n").find((line) => line.startsWith("conclave: error:"));
    expect(errorLine).toContain("answered 503");
    expect(errorLine).toContain("Check the server's health");
    expect(server.requests).toHaveLength(2);
  }, 60_000);
});
