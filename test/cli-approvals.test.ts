import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FakeOpenAIServer } from "../src/testing/index.ts";
import { ROOT, STATE_DIR, runCli } from "./helpers/cli.ts";
import { useFakeServer } from "./helpers/fake-server.ts";
import { mailerModel } from "./helpers/mailer-model.ts";

let server: FakeOpenAIServer;
useFakeServer((started) => {
  server = started;
  server.setFallback({ kind: "respond", handler: mailerModel });
});

const mailroomConfig = { CONCLAVE_CONFIG: join(ROOT, "test/fixtures/mailroom.config.json") };
function providerEnv(): Record<string, string> {
  return { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "test-key", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0", ...mailroomConfig };
}

interface Pending {
  threadId: string;
  interruptId: string;
  request: { kind: string; tool?: string; args?: { to: string; body: string }; summary: string };
}

async function pending(env: Record<string, string>): Promise<Pending[]> {
  const listed = await runCli(["pending", "--json"], { env });
  expect(listed.code).toBe(0);
  return JSON.parse(listed.stdout) as Pending[];
}

function auditRecords(): Array<{ kind: string; actor: string; threadId?: string; details: Record<string, unknown> }> {
  return readFileSync(join(STATE_DIR, "audit.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
}

describe("approvals from the CLI", () => {
  it("pauses on two mails at once, approves one by id, then edits the other; each mail is sent once", async () => {
    const env = providerEnv();
    const paused = await runCli(["run", "--graph", "mailroom", "--thread", "mail-1", "the report is ready"], { env });
    expect(paused.code).toBe(3);
    expect(paused.stdout).toContain("paused: thread mail-1 waits for 2 approvals");
    expect(paused.stdout).toContain("conclave approve mail-1 [--id ID]");

    const waiting = (await pending(env)).filter((item) => item.threadId === "mail-1");
    expect(waiting.map((item) => item.request.args!.to).sort()).toEqual(["ana", "bo"]);
    const runs = JSON.parse((await runCli(["runs", "--json"], { env })).stdout) as Array<{ threadId: string; status: string }>;
    expect(runs.find((thread) => thread.threadId === "mail-1")?.status).toBe("interrupted");

    const ana = waiting.find((item) => item.request.args!.to === "ana")!;
    const bo = waiting.find((item) => item.request.args!.to === "bo")!;
    const tooMany = await runCli(["approve", "mail-1", "--edit", '{"to":"x","body":"y"}'], { env });
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain("--edit applies to one approval, and 2 are pending");

    const half = await runCli(["approve", "mail-1", "--id", ana.interruptId, "--as", "alice"], { env });
    expect(half.code, half.stderr).toBe(3);
    expect(half.stdout).toContain("waits for 1 approval");
    expect((await pending(env)).filter((item) => item.threadId === "mail-1").map((item) => item.interruptId)).toEqual([bo.interruptId]);

    const done = await runCli(["approve", "mail-1", "--edit", '{"to":"bo","body":"edited: the report is late"}', "--as", "bob", "--json"], { env });
    expect(done.code, done.stderr).toBe(0);
    const answer = (JSON.parse(done.stdout) as { answer: string }).answer;
    expect(answer).toBe("ana: done: sent to ana: the report is ready\nbo: done: sent to bo: edited: the report is late");

    const audit = auditRecords().filter((record) => record.threadId === "mail-1");
    const approvals = audit.filter((record) => record.kind === "approval");
    expect(approvals.map((record) => [record.actor, record.details.decision, record.details.tool])).toEqual([
      ["alice", "approved", "send_mail"],
      ["bob", "edited", "send_mail"],
    ]);
    // Each mail went out once: the ana branch re-ran on every resume, and its sent mail came from the ledger.
    const sends = audit.filter((record) => record.kind === "tool-call" && record.details.tool === "send_mail" && !record.details.deduplicated);
    expect(sends.map((record) => (record.details.args as { to: string }).to).sort()).toEqual(["ana", "bo"]);
    expect((await runCli(["audit", "verify"], { env })).code).toBe(0);
  });

  it("rejects every pending mail with a reason the model is told", async () => {
    const env = providerEnv();
    expect((await runCli(["run", "--graph", "mailroom", "--thread", "mail-2", "lunch?"], { env })).code).toBe(3);
    const missing = await runCli(["reject", "mail-2"], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--reason");
    const rejected = await runCli(["reject", "mail-2", "--reason", "not today", "--as", "carol"], { env });
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toContain('ana: done: The user rejected this call to "send_mail" (not today)');
    expect(rejected.stdout).toContain('bo: done: The user rejected this call to "send_mail" (not today)');
    const decisions = auditRecords().filter((record) => record.threadId === "mail-2" && record.kind === "approval");
    expect(decisions.map((record) => [record.actor, record.details.decision, record.details.reason])).toEqual([
      ["carol", "rejected", "not today"],
      ["carol", "rejected", "not today"],
    ]);
    expect(auditRecords().some((record) => record.threadId === "mail-2" && record.kind === "tool-call")).toBe(false);
  });

  it("refuses decisions on a thread that waits for none, unknown ids and bad JSON", async () => {
    const env = providerEnv();
    expect((await runCli(["run", "--graph", "mailroom", "--thread", "mail-3", "hello"], { env })).code).toBe(3);
    const unknown = await runCli(["approve", "mail-3", "--id", "nope"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('has no pending approval "nope"');
    const badJson = await runCli(["approve", "mail-3", "--id", (await pending(env)).find((item) => item.threadId === "mail-3")!.interruptId, "--edit", "{to:"], { env });
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("--edit must be JSON");
    const noThread = await runCli(["approve", "no-such-thread"], { env });
    expect(noThread.code).toBe(2);
    expect(noThread.stderr).toContain('there is no thread "no-such-thread"');
    const resumeWaiting = await runCli(["run", "--thread", "mail-3"], { env });
    expect(resumeWaiting.code).toBe(2);
    expect(resumeWaiting.stderr).toContain("waits for 2 approval(s)");
  });
});

describe("approvals when things go wrong", () => {
  it("a provider failure after an approval leaves the thread waiting for the rest, not stuck", async () => {
    const env = providerEnv();
    expect((await runCli(["run", "--graph", "mailroom", "--thread", "mail-fail", "status update"], { env })).code).toBe(3);
    const [first, second] = (await pending(env)).filter((item) => item.threadId === "mail-fail");
    server.setFallback({ kind: "error", status: 500 });
    const failed = await runCli(["approve", "mail-fail", "--id", first!.interruptId], { env });
    expect(failed.code).toBe(1);
    const runs = JSON.parse((await runCli(["runs", "--json"], { env })).stdout) as Array<{ threadId: string; status: string }>;
    expect(runs.find((thread) => thread.threadId === "mail-fail")?.status).toBe("interrupted");
    // The failed branch's writes (its decision included) were not kept, so it asks again beside the other.
    expect((await pending(env)).filter((item) => item.threadId === "mail-fail").map((item) => item.interruptId).sort()).toEqual([first!.interruptId, second!.interruptId].sort());
    server.setFallback({ kind: "respond", handler: mailerModel });
    const done = await runCli(["approve", "mail-fail"], { env });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain("sent to");
    // A resumed run that failed is resumed, never replayed as new from the dead-letter queue.
    expect(JSON.parse((await runCli(["dlq", "list", "--json"], { env })).stdout)).toEqual([]);
  });

  it("refuses to leave a paused run on the memory checkpoint store, which would forget it", async () => {
    const paused = await runCli(["run", "--checkpoint", "memory", "--graph", "mailroom", "--thread", "mail-mem", "hi"], { env: providerEnv() });
    expect(paused.code).toBe(2);
    expect(paused.stderr).toContain('checkpoint.backend is "memory"');
    expect(paused.stderr).toContain("--checkpoint sqlite");
  });
});

describe("approving the research team's final answer", () => {
  const task = "What is 17 * 23 + 4?";

  it("pauses before the answer; approve keeps it, edit replaces it, reject marks it unverified", async () => {
    const paused = await runCli(["run", "--approve-answer", "--thread", "answer-1", task]);
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain("final answer: 17 * 23 + 4 = 395.");

    const approved = await runCli(["approve", "answer-1", "--json"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ answer: "17 * 23 + 4 = 395. [tool:calculator]", review: { decision: "approved" }, verified: true });

    expect((await runCli(["run", "--approve-answer", "--thread", "answer-2", task])).code).toBe(3);
    const edited = await runCli(["approve", "answer-2", "--edit", '"It is 395."', "--json"]);
    expect(JSON.parse(edited.stdout)).toMatchObject({ answer: "It is 395.", review: { decision: "edited" } });

    expect((await runCli(["run", "--approve-answer", "--thread", "answer-3", task])).code).toBe(3);
    const rejected = await runCli(["reject", "answer-3", "--reason", "show the working", "--json"]);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ review: { decision: "rejected", reason: "show the working" }, verified: false });
  });
});
