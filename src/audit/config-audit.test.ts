import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "./audit-log.ts";
import { auditConfig } from "./config-audit.ts";
import { verifyAuditLog } from "./verify.ts";

const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function newLog(): AuditLog {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-config-audit-"));
  temps.push(dir);
  return new AuditLog({ path: path.join(dir, "audit.jsonl") });
}

describe("auditConfig", () => {
  it("writes only when the configuration changes, listing the changed dotted keys", () => {
    const log = newLog();
    const config = { model: { provider: "openai", name: "gpt-4o-mini", apiKey: "[REDACTED]" }, tools: ["search"], budget: { maxUsd: 1 } };

    expect(auditConfig(log, config, "ann", "conclave.config.json")).toBe(true);
    const first = log.records()[0]!;
    expect(first.kind).toBe("config-change");
    expect(first.actor).toBe("ann");
    expect(first.details.source).toBe("conclave.config.json");
    expect(first.details.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.details.changes).toEqual([
      { key: "budget.maxUsd", after: 1 },
      { key: "model.apiKey", after: "[REDACTED]" },
      { key: "model.name", after: "gpt-4o-mini" },
      { key: "model.provider", after: "openai" },
      { key: "tools", after: ["search"] },
    ]);

    // The same settings in another key order: nothing to record.
    expect(auditConfig(log, { tools: ["search"], budget: { maxUsd: 1 }, model: { apiKey: "[REDACTED]", name: "gpt-4o-mini", provider: "openai" } }, "bob")).toBe(false);
    // Another log appended in between does not hide the last config-change.
    log.append({ kind: "data-access", actor: "ann", details: { resource: "a" } });
    expect(auditConfig(log, config, "ann")).toBe(false);

    const changed = { model: { provider: "openai", name: "gpt-4o" }, tools: ["search", "fetch"], budget: { maxUsd: 1 }, stepLimit: 50 };
    expect(auditConfig(log, changed, "bob")).toBe(true);
    const records = log.records();
    expect(records).toHaveLength(3);
    expect(records[2]!.details.changes).toEqual([
      { key: "model.apiKey", before: "[REDACTED]" },
      { key: "model.name", before: "gpt-4o-mini", after: "gpt-4o" },
      { key: "stepLimit", after: 50 },
      { key: "tools", before: ["search"], after: ["search", "fetch"] },
    ]);
    expect(records[2]!.details.snapshot).toEqual(changed);
    expect(auditConfig(log, changed, "bob")).toBe(false);
    expect(verifyAuditLog(log.path)).toEqual({ ok: true, records: 3 });
  });
});
