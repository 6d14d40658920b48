import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog } from "./audit-log.ts";
import { AuditLogError } from "./errors.ts";
import { verifyAuditLog } from "./verify.ts";

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-verify-"));
  file = path.join(dir, "audit.jsonl");
  const log = new AuditLog({ path: file });
  for (let i = 1; i <= 5; i++) log.append({ kind: "tool-call", actor: "ann", runId: "r1", details: { tool: "write_file", i } });
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The log's lines (without the final empty one), changed by `edit`, written back. */
function tamper(edit: (lines: string[]) => string[], ending = "\n"): void {
  const lines = fs.readFileSync(file, "utf8").split("\n").slice(0, -1);
  fs.writeFileSync(file, edit(lines).join("\n") + ending);
}

describe("verifyAuditLog", () => {
  it("accepts an untouched chain", () => {
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 5 });
  });

  it("finds an edited line", () => {
    tamper((lines) => lines.map((line, index) => (index === 2 ? line.replace('"i":3', '"i":30') : line)));
    expect(verifyAuditLog(file)).toEqual({ ok: false, records: 2, problem: { line: 3, reason: "line 3: hash does not match its contents — the line was edited" } });
  });

  it("finds an edit that also recomputed the line's hash, at the next line", () => {
    const log = new AuditLog({ path: path.join(dir, "forged.jsonl") });
    const records = new AuditLog({ path: file }).records();
    // Rebuild line 3 with new contents and a correct hash of its own, then keep lines 4–5 as they were.
    fs.writeFileSync(log.path, records.slice(0, 2).map((record) => JSON.stringify(record)).join("\n") + "\n");
    log.append({ kind: "tool-call", actor: "mallory", details: { tool: "write_file", i: 3 } });
    fs.appendFileSync(log.path, records.slice(3).map((record) => JSON.stringify(record)).join("\n") + "\n");
    expect(verifyAuditLog(log.path).problem).toEqual({ line: 4, reason: "line 4: prev does not match line 3's hash — a line was removed or reordered" });
  });

  it("finds a deleted line", () => {
    tamper((lines) => lines.filter((_, index) => index !== 2));
    expect(verifyAuditLog(file)).toEqual({ ok: false, records: 2, problem: { line: 3, reason: "line 3: prev does not match line 2's hash — a line was removed or reordered" } });
  });

  it("finds a deleted first line", () => {
    tamper((lines) => lines.slice(1));
    expect(verifyAuditLog(file).problem).toEqual({ line: 1, reason: "line 1: prev is not the start-of-log value (64 zeros) — lines before it were removed" });
  });

  it("finds two swapped lines", () => {
    tamper((lines) => [lines[0]!, lines[2]!, lines[1]!, lines[3]!, lines[4]!]);
    expect(verifyAuditLog(file).problem).toEqual({ line: 2, reason: "line 2: prev does not match line 1's hash — a line was removed or reordered" });
  });

  it("finds a truncated last line", () => {
    tamper((lines) => [...lines.slice(0, 4), lines[4]!.slice(0, 40)], "");
    expect(verifyAuditLog(file)).toEqual({ ok: false, records: 4, problem: { line: 5, reason: "line 5: not valid JSON — the last line is truncated" } });
  });

  it("finds invalid JSON, blank lines and non-records in the middle", () => {
    tamper((lines) => [lines[0]!, "{not json", ...lines.slice(2)]);
    expect(verifyAuditLog(file).problem).toEqual({ line: 2, reason: "line 2: not valid JSON" });
    tamper((lines) => [lines[0]!, "", ...lines.slice(2)]);
    expect(verifyAuditLog(file).problem?.reason).toMatch(/^line 2: empty line/);
    tamper((lines) => [lines[0]!, '{"seq":2}', ...lines.slice(2)]);
    expect(verifyAuditLog(file).problem?.reason).toBe("line 2: missing at, kind, actor, details, prev, hash — not an audit record");
  });

  it("accepts a log whose last line lacks only its newline", () => {
    tamper((lines) => lines, "");
    expect(verifyAuditLog(file)).toEqual({ ok: true, records: 5 });
  });

  it("says how audit logging is enabled when the file does not exist", () => {
    let caught: unknown;
    try {
      verifyAuditLog(path.join(dir, "missing.jsonl"));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AuditLogError);
    const error = caught as AuditLogError;
    expect(error.code).toBe("AUDIT_LOG_MISSING");
    expect(error.message).toContain("missing.jsonl");
    expect(error.message).toMatch(/enable/);
  });
});
