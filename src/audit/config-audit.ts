import type { AuditLog, AuditRecord } from "./audit-log.ts";
import { canonicalJson, sha256Hex } from "./canonical.ts";

/** One setting that differs from the last recorded configuration; `before`/`after` are absent when the setting was added/removed. */
export interface ConfigChange {
  key: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends a `config-change` record when `config` differs from the configuration of the last
 * `config-change` record in the log (by the sha256 of its canonical JSON); returns whether it wrote.
 * The record holds `configHash`, the `changes` as dotted keys with before/after values, the
 * `source` (e.g. the config file), and a `snapshot` of `config` for the next comparison.
 * `config` must already have its secrets redacted: it is written to the log as given.
 */
export function auditConfig(log: AuditLog, config: unknown, actor: string, source?: string): boolean {
  const snapshot: unknown = JSON.parse(canonicalJson(config));
  const configHash = sha256Hex(canonicalJson(snapshot));
  const written = log.appendIf((records) => {
    const last = lastConfigChange(records);
    if (last?.details.configHash === configHash) return undefined;
    const changes = diff(flatten(last?.details.snapshot), flatten(snapshot));
    return { kind: "config-change", actor, details: { configHash, changes, ...(source === undefined ? {} : { source }), snapshot } };
  });
  return written !== undefined;
}

function lastConfigChange(records: readonly AuditRecord[]): AuditRecord | undefined {
  for (let i = records.length - 1; i >= 0; i--) if (records[i]!.kind === "config-change") return records[i];
  return undefined;
}

/** Leaf values by dotted key; arrays are leaves (compared whole). */
function flatten(value: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== "") out.set(prefix, value);
    for (const [key, child] of entries) flatten(child, prefix === "" ? key : `${prefix}.${key}`, out);
  } else if (value !== undefined) {
    out.set(prefix, value);
  }
  return out;
}

function diff(before: Map<string, unknown>, after: Map<string, unknown>): ConfigChange[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changes: ConfigChange[] = [];
  for (const key of keys) {
    const was = before.get(key);
    const now = after.get(key);
    if (canonicalJson(was) === canonicalJson(now) && before.has(key) === after.has(key)) continue;
    changes.push({ key, ...(before.has(key) ? { before: was } : {}), ...(after.has(key) ? { after: now } : {}) });
  }
  return changes;
}
