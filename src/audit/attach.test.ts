import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RunEvents, createEventSink } from "../events/emitter.ts";
import { AuditLog } from "./audit-log.ts";
import { attachAudit } from "./attach.ts";
import { verifyAuditLog } from "./verify.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function newLog(): AuditLog {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-attach-"));
  temps.push(dir);
  return new AuditLog({ path: path.join(dir, "audit.jsonl") });
}

describe("attachAudit", () => {
  it("records side-effecting tool calls with their args, approvals and data access", () => {
    const events = new RunEvents();
    const log = newLog();
    const detach = attachAudit(events, log, "ann");
    const sink = createEventSink(events, "run-1", "thread-1");
    const other = createEventSink(events, "run-2", "thread-2");

    sink.emit({ type: "tool-call-start", callId: "c1", tool: "send_email", args: { to: "bob@example.com" } });
    other.emit({ type: "tool-call-start", callId: "c1", tool: "send_email", args: { to: "eve@example.com" } });
    sink.emit({ type: "tool-call-start", callId: "c2", tool: "search", args: { q: "x" } });
    sink.emit({ type: "tool-call-end", callId: "c2", tool: "search", latencyMs: 3, outputChars: 10, output: "results..." });
    sink.emit({ type: "tool-call-end", callId: "c1", tool: "send_email", latencyMs: 5, outputChars: 4, output: "sent", sideEffects: true, idempotencyKey: "thread-1:ns:0", deduplicated: true });
    sink.emit({ type: "approval-decision", interruptId: "i1", kind: "tool", decision: "edited", actor: "bob", tool: "send_email", reason: "fix recipient", edit: { to: "carol@example.com" } });
    sink.emit({ type: "data-access", tool: "read_file", kind: "file", resource: "docs/plan.md" });
    other.emit({ type: "tool-call-end", callId: "c1", tool: "send_email", latencyMs: 5, outputChars: 0, output: "", sideEffects: true, error: "SMTP down" });

    const records = log.records();
    expect(records.map((record) => [record.kind, record.actor, record.runId, record.threadId])).toEqual([
      ["tool-call", "ann", "run-1", "thread-1"],
      ["approval", "bob", "run-1", "thread-1"],
      ["data-access", "ann", "run-1", "thread-1"],
      ["tool-call", "ann", "run-2", "thread-2"],
    ]);
    expect(records[0]!.details).toEqual({ tool: "send_email", callId: "c1", args: { to: "bob@example.com" }, idempotencyKey: "thread-1:ns:0", deduplicated: true, outputChars: 4 });
    expect(records[1]!.details).toEqual({ interruptId: "i1", kind: "tool", decision: "edited", tool: "send_email", reason: "fix recipient", edit: { to: "carol@example.com" } });
    expect(records[2]!.details).toEqual({ tool: "read_file", kind: "file", resource: "docs/plan.md" });
    expect(records[3]!.details).toEqual({ tool: "send_email", callId: "c1", args: { to: "eve@example.com" }, deduplicated: false, error: "SMTP down", outputChars: 0 });
    expect(fs.readFileSync(log.path, "utf8")).not.toContain("sent");
    expect(verifyAuditLog(log.path)).toEqual({ ok: true, records: 4 });

    detach();
    sink.emit({ type: "data-access", tool: "read_file", kind: "document", resource: "doc-7" });
    expect(log.records()).toHaveLength(4);
    expect(events.listenerCount("tool-call-end")).toBe(0);
  });
});
