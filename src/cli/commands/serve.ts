import { UsageError } from "../../errors.ts";
import { ApiKeyStore, apiKeyStorePath } from "../../service/auth/keys.ts";
import { ApiKeyLimits } from "../../service/auth/limits.ts";
import { apiKeyAuthenticate } from "../../service/key-auth.ts";
import { createService } from "../../service/server.ts";
import { createNotifier } from "../../service/webhooks/outbound.ts";
import { MemoryIdempotencyStore, WebhookInbox } from "../../service/webhooks/inbound.ts";
import { MemoryReplayCache } from "../../service/webhooks/replay.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { join } from "node:path";
import { parseCommandArgs, positiveInteger } from "../args.ts";
import type { CliIO } from "../output.ts";
import { openWorkspace } from "../workspace.ts";

const SERVE_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  concurrency: { type: "string" },
  grace: { type: "string" },
  quiet: { type: "boolean" },
} as const;

/**
 * `conclave serve --port N [--host 127.0.0.1]`: the HTTP service. Runs execute in this process
 * with the workspace's checkpointer; SIGINT / SIGTERM stop accepting requests and give running
 * runs `--grace` seconds to finish (they checkpoint after every step, and the next start resumes them).
 */
export async function serveCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("serve", argv, SERVE_OPTIONS);
  if (positionals.length) throw new UsageError(`conclave serve: unexpected argument "${positionals[0]}". Usage: conclave serve --port N [--host 127.0.0.1].`);
  const port = portOf(values.port ?? io.env.PORT ?? "8080");
  const host = values.host ?? "127.0.0.1";
  const concurrency = positiveInteger("serve", "concurrency", values.concurrency);
  const graceMs = (positiveInteger("serve", "grace", values.grace) ?? 10) * 1_000;
  const workspace = await openWorkspace(io, values.config ? { configFile: values.config } : {});
  const logger = values.quiet ? false : { level: "info", stream: { write: (line: string) => io.stderr(workspace.redactor.redact(line)) } };
  // API keys (conclave keys create) are checked once any exists; until then the service is open.
  const keys = new ApiKeyStore({ path: apiKeyStorePath(workspace.cwd, workspace.config.stateDir) });
  const keysConfigured = keys.list().some((key) => !key.revokedAt);
  // Run-completed notifications are signed with CONCLAVE_WEBHOOK_SECRET (environment or secrets file); dead letters after the last try.
  const secret = workspace.env.CONCLAVE_WEBHOOK_SECRET;
  const notifier = secret ? createNotifier({ secret: secret.split(",")[0]!.trim(), deadLetters: new DeadLetterQueue({ path: join(workspace.cwd, workspace.config.stateDir, "dlq.sqlite") }) }) : undefined;
  // The same secret verifies inbound POST /webhooks/:source (comma-separate several to rotate keys).
  const webhooks = secret ? { secrets: secret.split(",").map((part) => part.trim()).filter(Boolean), replayCache: new MemoryReplayCache(), inbox: new WebhookInbox({ store: new MemoryIdempotencyStore() }) } : undefined;
  const service = createService({ workspace, logger, authenticate: apiKeyAuthenticate(keys, new ApiKeyLimits()), ...(notifier ? { notifier } : {}), ...(webhooks ? { webhooks } : {}), ...(concurrency ? { concurrency } : {}) });
  const stop = new AbortController();
  const onTerm = () => stop.abort();
  process.once("SIGTERM", onTerm);
  try {
    const url = await service.app.listen({ port, host });
    io.stderr(`conclave serve: listening on ${url} (OpenAPI at ${url}/openapi.json)${keysConfigured ? " — API keys required" : host === "127.0.0.1" || host === "localhost" ? " — no API keys yet: open to this machine (conclave keys create --scopes run,approve)" : " — no API keys yet, so anyone who can reach it may call it: create one with conclave keys create"}\n`);
    await new Promise<void>((done) => {
      if (signal.aborted || stop.signal.aborted) return done();
      signal.addEventListener("abort", () => done(), { once: true });
      stop.signal.addEventListener("abort", () => done(), { once: true });
    });
    io.stderr(`conclave serve: shutting down: no new requests; running runs get ${graceMs / 1000}s to finish, then resume on the next start\n`);
    return 0;
  } finally {
    process.off("SIGTERM", onTerm);
    await service.close(graceMs);
    keys.close();
    await workspace.close();
  }
}

function portOf(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`conclave serve: --port needs a port number (0-65535, 0 picks a free one), got "${value}".`);
  return port;
}
