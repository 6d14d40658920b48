import fs from "node:fs";
import path from "node:path";
import { GENESIS_HASH, canonicalJson, sha256Hex } from "./canonical.ts";
import { AuditLogError } from "./errors.ts";
import { withFileLock } from "./lock.ts";
import type { FileLockOptions } from "./lock.ts";

export type AuditKind = "tool-call" | "approval" | "config-change" | "data-access";

/** What a caller records; the log adds the sequence number, time and hash chain. */
export interface AuditEntry {
  kind: AuditKind;
  /** Who acted: a user (`--as`, the OS user) or the agent/run on whose behalf a tool ran. */
  actor: string;
  runId?: string;
  threadId?: string;
  details: Record<string, unknown>;
}

/** One line of the log. `hash` = sha256(prev + canonical JSON of every other field). */
export interface AuditRecord extends AuditEntry {
  /** 1 for the first line, then one more per line. */
  seq: number;
  /** ISO 8601 time of the append. */
  at: string;
  /** The previous line's hash; 64 zeros on the first line. */
  prev: string;
  hash: string;
}

export interface AuditLogOptions {
  /** The JSONL file; its folder is created on the first append. */
  path: string;
  /** Masks secrets in the serialized `details` before they are hashed and written (e.g. `redactor.redact`). */
  redact?: (text: string) => string;
  lock?: FileLockOptions;
}

/**
 * An append-only JSONL audit log whose lines form a hash chain: each names the previous line's
 * hash, so editing, removing or reordering lines is detected by {@link verifyAuditLog}. Appends
 * from several processes are serialized through a lock file (`<path>.lock`).
 */
export class AuditLog {
  readonly path: string;
  private readonly redact: ((text: string) => string) | undefined;
  private readonly lockOptions: FileLockOptions;

  constructor(options: AuditLogOptions) {
    this.path = path.resolve(options.path);
    this.redact = options.redact;
    this.lockOptions = options.lock ?? {};
  }

  /** Appends one record and returns it as written. */
  append(entry: AuditEntry): AuditRecord {
    return this.locked(() => this.write(entry, readTail(this.path)));
  }

  /**
   * Reads every record and appends what `decide` returns, if anything, all under the lock, so two
   * processes cannot both decide on the same old state (e.g. both record one config change).
   */
  appendIf(decide: (records: readonly AuditRecord[]) => AuditEntry | undefined): AuditRecord | undefined {
    return this.locked(() => {
      const records = this.records();
      const entry = decide(records);
      return entry === undefined ? undefined : this.write(entry, readTail(this.path));
    });
  }

  /** Every record in the file (none when it does not exist). Throws on a line that is not a record. */
  records(): AuditRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return text.split("\n").flatMap((line, index) => (line === "" ? [] : [parseRecord(line, this.path, index + 1)]));
  }

  private locked<T>(fn: () => T): T {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    return withFileLock(`${this.path}.lock`, fn, this.lockOptions);
  }

  private write(entry: AuditEntry, tail: Tail): AuditRecord {
    const body: Omit<AuditRecord, "hash"> = {
      seq: (tail.last?.seq ?? 0) + 1,
      at: new Date().toISOString(),
      kind: entry.kind,
      actor: entry.actor,
      ...(entry.runId === undefined ? {} : { runId: entry.runId }),
      ...(entry.threadId === undefined ? {} : { threadId: entry.threadId }),
      details: normalizeDetails(entry.details, this.redact),
      prev: tail.last?.hash ?? GENESIS_HASH,
    };
    const record: AuditRecord = { ...body, hash: recordHash(body) };
    fs.appendFileSync(this.path, `${tail.needsNewline ? "\n" : ""}${JSON.stringify(record)}\n`);
    return record;
  }
}

/** The hash a record must carry: sha256 hex of its `prev` followed by the canonical JSON of the record without `hash`. */
export function recordHash(record: Omit<AuditRecord, "hash"> & { hash?: unknown }): string {
  const { hash: _ignored, ...body } = record;
  return sha256Hex(body.prev + canonicalJson(body));
}

/** `details` as JSON will store it (so the hash recomputes from the file), redacted when asked. */
function normalizeDetails(details: Record<string, unknown>, redact: ((text: string) => string) | undefined): Record<string, unknown> {
  const text = JSON.stringify(details);
  const masked = redact ? redact(text) : text;
  try {
    return JSON.parse(masked) as Record<string, unknown>;
  } catch {
    return { redacted: masked }; // The redactor cut through JSON syntax; keep its text as it is.
  }
}

interface Tail {
  last?: AuditRecord;
  /** The file does not end with a newline: start the next record on a line of its own. */
  needsNewline: boolean;
}

/** The last record of the file, reading only as much of its end as needed. */
function readTail(file: string): Tail {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { needsNewline: false };
    throw error;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return { needsNewline: false };
    for (let chunk = 4096; ; chunk *= 4) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      fs.readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.toString("utf8");
      const body = text.replace(/\n+$/, "");
      const newline = body.lastIndexOf("\n");
      if (newline < 0 && start > 0) continue;
      if (body === "") return { needsNewline: false };
      const lineNumber = newline < 0 ? 1 : undefined;
      return { last: parseRecord(body.slice(newline + 1), file, lineNumber), needsNewline: !text.endsWith("\n") };
    }
  } finally {
    fs.closeSync(fd);
  }
}

function parseRecord(line: string, file: string, lineNumber: number | undefined): AuditRecord {
  let record: Partial<AuditRecord> | undefined;
  try {
    record = JSON.parse(line) as Partial<AuditRecord>;
  } catch {
    record = undefined;
  }
  if (record && typeof record === "object" && typeof record.seq === "number" && typeof record.hash === "string") return record as AuditRecord;
  const where = lineNumber === undefined ? "The last line" : `Line ${lineNumber}`;
  throw new AuditLogError(
    "AUDIT_LOG_DAMAGED",
    `${where} of the audit log ${file} is not an audit record (a cut-short write, or an edit). Nothing was appended. Run verifyAuditLog on it to find the first bad line; to start a new chain, move the file aside.`,
    { details: { file, ...(lineNumber === undefined ? {} : { line: lineNumber }) } },
  );
}
