import fs from "node:fs";
import { GENESIS_HASH } from "./canonical.ts";
import { recordHash } from "./audit-log.ts";
import type { AuditRecord } from "./audit-log.ts";
import { AuditLogError } from "./errors.ts";

export interface AuditVerification {
  /** Every line is a record, in sequence, linked to the one before, with a hash that matches. */
  ok: boolean;
  /** How many lines verified before the first problem (all of them when `ok`). */
  records: number;
  /** The first bad line (1-based) and what is wrong with it. */
  problem?: { line: number; reason: string };
}

/**
 * Checks an audit log's hash chain line by line and reports the first line that is not valid JSON,
 * out of sequence, not linked to the line before, or whose hash does not match its contents.
 * Throws an AuditLogError when the file does not exist.
 */
export function verifyAuditLog(file: string): AuditVerification {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new AuditLogError(
      "AUDIT_LOG_MISSING",
      `There is no audit log at ${file}. An audit log is only written while audit logging is enabled (the CLI writes .conclave/audit.jsonl in the working folder); enable it and run again, or pass the path of an existing log.`,
      { details: { file } },
    );
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let previous: AuditRecord | undefined;
  for (const [index, line] of lines.entries()) {
    const number = index + 1;
    const fail = (reason: string): AuditVerification => ({ ok: false, records: index, problem: { line: number, reason: `line ${number}: ${reason}` } });
    const record = parse(line);
    if (typeof record === "string") return fail(index === lines.length - 1 && !text.endsWith("\n") ? `${record} — the last line is truncated` : record);
    if (record.hash !== recordHash(record)) return fail("hash does not match its contents — the line was edited");
    if (previous === undefined && record.prev !== GENESIS_HASH) return fail("prev is not the start-of-log value (64 zeros) — lines before it were removed");
    if (previous !== undefined && record.prev !== previous.hash) return fail(`prev does not match line ${number - 1}'s hash — a line was removed or reordered`);
    const expected = (previous?.seq ?? 0) + 1;
    if (record.seq !== expected) return fail(`seq is ${record.seq}, expected ${expected} — the sequence was altered`);
    previous = record;
  }
  return { ok: true, records: lines.length };
}

/** The record on a line, or why it is not one. */
function parse(line: string): AuditRecord | string {
  if (line.trim() === "") return "empty line — a line was blanked or a write was lost";
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return "not valid JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const record = value as Partial<AuditRecord>;
  const missing = (["seq", "at", "kind", "actor", "details", "prev", "hash"] as const).filter((key) => record[key] === undefined);
  if (missing.length > 0) return `missing ${missing.join(", ")} — not an audit record`;
  if (typeof record.seq !== "number" || typeof record.prev !== "string" || typeof record.hash !== "string") return "seq, prev or hash has the wrong type — not an audit record";
  return record as AuditRecord;
}
