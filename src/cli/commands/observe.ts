import { resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { verifyAuditLog } from "../../audit/index.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";
import { workspaceMetrics } from "../workspace.ts";
import { withWorkspace } from "./threads.ts";

/** `conclave metrics`: Prometheus text for every run this workspace kept (requests, latency, errors, tokens, cost, cache, breakers). */
export async function metricsCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("metrics", argv, {});
  return withWorkspace(io, values.config, async (workspace) => {
    io.stdout(await workspaceMetrics(workspace));
    return 0;
  });
}

/** `conclave audit verify [--file F]`: checks the audit log's hash chain; exit 1 and the first bad line when it was tampered with. */
export async function auditCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs("audit", argv, { file: { type: "string" }, json: { type: "boolean" } });
  if (positionals[0] !== "verify") throw new UsageError('conclave audit: usage: conclave audit verify [--file PATH] (default: audit.path in the config, .conclave/audit.jsonl).');
  return withWorkspace(io, values.config, async (workspace) => {
    const path = resolve(workspace.cwd, values.file ?? workspace.config.audit.path ?? `${workspace.config.stateDir}/audit.jsonl`);
    const result = verifyAuditLog(path);
    if (values.json) io.stdout(`${JSON.stringify({ path, ...result })}\n`);
    else if (result.ok) io.stdout(`audit log ${path}: ${result.records} records, hash chain intact\n`);
    else io.stdout(`audit log ${path}: TAMPERED — ${result.problem!.reason} (${result.records} records check out before it)\n`);
    return result.ok ? 0 : 1;
  });
}
