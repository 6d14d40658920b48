import { describe, expect, it } from "vitest";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { runCli } from "./helpers/cli.ts";
import { useFakeServer } from "./helpers/fake-server.ts";
import { roleOf, teamModel } from "./helpers/team-model.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => {
  server = started;
  server.setFallback({ kind: "respond", handler: teamModel });
});

const env = () => ({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_EMBEDDINGS_PROVIDER: "offline" });

interface Entry {
  checkpointId: string;
  step: number;
  ran: string[];
  next: string[];
  round?: number;
  changes: string[];
}

describe("inspect and fork", () => {
  it("shows each step's nodes, round and state changes, and forks from the step before writing with another model", async () => {
    const first = await runCli(["run", "--thread", "tt-1", "--json", "When did Apollo 11 land on the Moon?"], { env: env() });
    expect(first.code, first.stderr).toBe(0);
    const original = JSON.parse(first.stdout) as { answer: string };

    const inspected = await runCli(["inspect", "tt-1", "--json"], { env: env() });
    expect(inspected.code, inspected.stderr).toBe(0);
    const history = (JSON.parse(inspected.stdout) as { checkpoints: Entry[] }).checkpoints;
    expect(history.map((entry) => entry.ran.join(","))).toEqual(["", "__start__", "planning", "research", "writing", "verification", "critique", "coordinator", "synthesis", "review"]);
    const afterResearch = history.find((entry) => entry.ran.includes("research"))!;
    expect(afterResearch.next).toEqual(["writing"]);
    expect(afterResearch.round).toBe(1);
    expect(afterResearch.changes.some((change) => change.startsWith("findings: +1 item(s)"))).toBe(true);
    const text = await runCli(["inspect", "tt-1"], { env: env() });
    expect(text.stdout).toContain(`${afterResearch.checkpointId}  step`);
    expect(text.stdout).toContain("next: writing");

    const before = server.requests.length;
    const forked = await runCli(["fork", "tt-1", "--at", afterResearch.checkpointId.slice(0, 13), "--model", "other-model", "--json"], { env: env() });
    expect(forked.code, forked.stderr).toBe(0);
    expect(forked.stderr).toContain(`forking thread tt-1 from checkpoint ${afterResearch.checkpointId}`);
    const after = server.requests.slice(before);
    expect(after.map(roleOf)).not.toContain("planner");
    expect(after.map(roleOf)).not.toContain("research");
    expect(after[0] && roleOf(after[0])).toBe("writing");
    expect(new Set(after.map((request) => request.body.model))).toEqual(new Set(["other-model"]));
    expect(JSON.parse(forked.stdout)).toMatchObject({ answer: original.answer, model: { name: "other-model" } });

    // The fork is a new branch of the same thread: its history now runs through the fork.
    const again = JSON.parse((await runCli(["inspect", "tt-1", "--json"], { env: env() })).stdout) as { checkpoints: Entry[] };
    expect(again.checkpoints.length).toBeGreaterThan(history.length - 1);
    expect(again.checkpoints.some((entry) => entry.checkpointId === afterResearch.checkpointId)).toBe(true);
  });

  it("says what to do with an unknown thread or checkpoint", async () => {
    const missing = await runCli(["inspect", "nope"], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('there is no thread "nope"');
    expect((await runCli(["run", "--thread", "tt-2", "When did Apollo 11 land on the Moon?"], { env: env() })).code).toBe(0);
    const badAt = await runCli(["fork", "tt-2", "--at", "zzz"], { env: env() });
    expect(badAt.code).toBe(2);
    expect(badAt.stderr).toContain('has no checkpoint "zzz"');
  });
});
