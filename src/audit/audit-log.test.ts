import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { Redactor } from "../secrets/redact.ts";
import { AuditLog, recordHash } from "./audit-log.ts";
import { GENESIS_HASH } from "./canonical.ts";
import { AuditLogError } from "./errors.ts";
import { verifyAuditLog } from "./verify.ts";

const temps: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-audit-"));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("AuditLog.append", () => {
  it("creates the folder and writes a hash chain of JSON lines", () => {
    const file = path.join(tempDir(), "nested", ".conclave", "audit.jsonl");
    const log = new AuditLog({ path: file });
    const first = log.append({ kind: "tool-call", actor: "ann", runId: "r1", threadId: "t1", details: { tool: "send_email", n: 1 } });
    const second = log.append({ kind: "approval", actor: "bob", details: { decision: "approved", when: new Date(0), skipped: undefined } });

    expect(first).toMatchObject({ seq: 1, kind: "tool-call", actor: "ann", runId: "r1", threadId: "t1", prev: GENESIS_HASH });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.hash).toBe(recordHash(first));
    expect(second).toMatchObject({ seq: 2, prev: first.hash, details: { decision: "approved", when: "1970-01-01T00:00:00.000Z" } });
    expect(second).not.toHaveProperty("runId");
    expect(Number.isNaN(Date.parse(second.at))).toBe(false);

    const lines = fs.readFileSync(file, "utf8").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    expect(JSON.parse(lines[0]!)).toEqual(first);
    expect(JSON.parse(lines[1]!)).toEqual(second);
    expect(Object.keys(JSON.parse(lines[0]!) as object)).toEqual(["seq", "at", "kind", "actor", "runId", "threadId", "details", "prev", "hash"]);
    expect(log.records()).toEqual([first, second]);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 2 });
  });

  it("continues the chain across instances", () => {
    const file = path.join(tempDir(), "audit.jsonl");
    for (let i = 0; i < 6; i++) new AuditLog({ path: file }).append({ kind: "data-access", actor: `a${i % 2}`, details: { i } });
    expect(new AuditLog({ path: file }).records().map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 6 });
  });

  it("redacts the details before hashing when given a redactor", () => {
    const canary = "sk-canary-0123456789abcdefghij";
    const file = path.join(tempDir(), "audit.jsonl");
    const redactor = new Redactor([canary]);
    const log = new AuditLog({ path: file, redact: (text) => redactor.redact(text) });
    const record = log.append({ kind: "tool-call", actor: "ann", details: { args: { token: canary, list: [`x ${canary}`] } } });
    expect(record.details).toEqual({ args: { token: "[REDACTED]", list: ["x [REDACTED]"] } });
    expect(fs.readFileSync(file, "utf8")).not.toContain(canary);
    expect(verifyAuditLog(file).ok).toBe(true);
  });

  it("refuses to append after a damaged last line", () => {
    const file = path.join(tempDir(), "audit.jsonl");
    const log = new AuditLog({ path: file });
    log.append({ kind: "approval", actor: "ann", details: {} });
    fs.appendFileSync(file, '{"seq":2,"at":"cut sh');
    expect(() => log.append({ kind: "approval", actor: "ann", details: {} })).toThrow(AuditLogError);
    expect(() => log.append({ kind: "approval", actor: "ann", details: {} })).toThrow(/not an audit record/);
  });

  it("takes over a stale lock and times out on a live one", () => {
    const file = path.join(tempDir(), "audit.jsonl");
    const lock = `${file}.lock`;
    fs.writeFileSync(lock, "12345 crashed\n");
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const log = new AuditLog({ path: file, lock: { staleMs: 1_000, timeoutMs: 300 } });
    expect(log.append({ kind: "approval", actor: "ann", details: {} }).seq).toBe(1);
    expect(fs.existsSync(lock)).toBe(false);

    fs.writeFileSync(lock, "12345 busy\n");
    let caught: unknown;
    try {
      log.append({ kind: "approval", actor: "ann", details: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuditLogError);
    expect((caught as AuditLogError).code).toBe("AUDIT_LOG_LOCKED");
    expect((caught as AuditLogError).message).toContain(lock);
    fs.rmSync(lock);
  });
});

describe("AuditLog across processes", () => {
  const auditLogModule = pathToFileURL(fileURLToPath(new URL("./audit-log.ts", import.meta.url))).href;
  const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

  /** Runs a child `node --import tsx` process that appends `count` entries as `actor` once `startAt` is reached. */
  function appender(script: string, file: string, actor: string, count: number, startAt: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", script, file, actor, String(count), String(startAt)], { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`appender ${actor} exited with ${code}: ${stderr}`))));
    });
  }

  it("two processes appending 50 entries each leave one valid chain of 100", async () => {
    const dir = tempDir();
    const script = path.join(dir, "append.ts");
    fs.writeFileSync(
      script,
      [
        `import { AuditLog } from ${JSON.stringify(auditLogModule)};`,
        "const [file, actor, count, startAt] = process.argv.slice(2);",
        "while (Date.now() < Number(startAt)) {}",
        "const log = new AuditLog({ path: file! });",
        "const pause = new Int32Array(new SharedArrayBuffer(4));",
        "for (let i = 0; i < Number(count); i++) {",
        "  log.append({ kind: \"tool-call\", actor: actor!, details: { i } });",
        "  Atomics.wait(pause, 0, 0, Math.random() * 2); // spread the appends so the two processes interleave",
        "}",
      ].join("\n"),
    );
    const file = path.join(dir, "logs", "audit.jsonl");
    const startAt = Date.now() + 2_500;
    await Promise.all([appender(script, file, "one", 50, startAt), appender(script, file, "two", 50, startAt)]);

    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 100 });
    const records = new AuditLog({ path: file }).records();
    expect(records.filter((record) => record.actor === "one").map((record) => record.details.i)).toEqual([...Array(50).keys()]);
    expect(records.filter((record) => record.actor === "two")).toHaveLength(50);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });
});
