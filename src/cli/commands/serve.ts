import { UsageError } from "../../errors.ts";
import { createService } from "../../service/server.ts";
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
  const service = createService({ workspace, logger, ...(concurrency ? { concurrency } : {}) });
  const stop = new AbortController();
  const onTerm = () => stop.abort();
  process.once("SIGTERM", onTerm);
  try {
    const url = await service.app.listen({ port, host });
    io.stderr(`conclave serve: listening on ${url} (OpenAPI at ${url}/openapi.json)${host === "127.0.0.1" || host === "localhost" ? "" : " — no API keys are checked: put it behind an authenticating proxy or configure keys"}\n`);
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
    await workspace.close();
  }
}

function portOf(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`conclave serve: --port needs a port number (0-65535, 0 picks a free one), got "${value}".`);
  return port;
}
