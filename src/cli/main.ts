import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { isConclaveError, UsageError } from "../errors.ts";
import { configCommand } from "./commands/config.ts";
import { dlqCommand } from "./commands/dlq.ts";
import { doctorCommand } from "./commands/doctor.ts";
import { graphsCommand } from "./commands/graphs.ts";
import { runCommand } from "./commands/run.ts";
import { approveCommand, rejectCommand } from "./commands/decide.ts";
import { forkCommand } from "./commands/fork.ts";
import { evalCommand } from "./commands/eval.ts";
import { auditCommand, metricsCommand } from "./commands/observe.ts";
import { inspectCommand, pendingCommand, runsCommand } from "./commands/threads.ts";
import { keysCommand } from "./commands/keys.ts";
import { serveCommand } from "./commands/serve.ts";
import { workerCommand } from "./commands/worker.ts";
import { COMMAND_HELP, MAIN_HELP } from "./help.ts";
import type { CliIO } from "./output.ts";
import { processIO } from "./output.ts";

type Command = (argv: string[], io: CliIO, signal: AbortSignal) => Promise<number>;
const COMMANDS: Record<string, Command> = {
  run: (argv, io, signal) => runCommand(argv, io, signal),
  runs: runsCommand,
  pending: pendingCommand,
  approve: approveCommand,
  reject: rejectCommand,
  inspect: inspectCommand,
  fork: forkCommand,
  metrics: metricsCommand,
  audit: auditCommand,
  eval: evalCommand,
  graphs: graphsCommand,
  config: configCommand,
  dlq: dlqCommand,
  doctor: doctorCommand,
  keys: keysCommand,
  serve: serveCommand,
  worker: workerCommand,
};

/**
 * The `conclave` command. Returns the exit code: 0 success, 1 the run failed, 2 bad usage or
 * configuration, 3 the run paused for approvals — each failure as one line with the reason and the fix (stack with --verbose).
 */
export async function main(argv: string[], io: CliIO = processIO, signal: AbortSignal = new AbortController().signal): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    const topic = command === "help" ? rest[0] : undefined;
    if (topic !== undefined && !COMMAND_HELP[topic]) return fail(io, new UsageError(`conclave help: unknown command "${topic}". Commands: ${Object.keys(COMMANDS).join(", ")}.`), false);
    io.stdout(`${topic ? COMMAND_HELP[topic] : MAIN_HELP}\n`);
    return 0;
  }
  if (command === "-v" || command === "--version") {
    io.stdout(`${version()}\n`);
    return 0;
  }
  const handler = COMMANDS[command];
  if (!handler) return fail(io, new UsageError(`conclave: unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(", ")}. Run "conclave --help".`), false);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${COMMAND_HELP[command]}\n`);
    return 0;
  }
  try {
    return await handler(rest, io, signal);
  } catch (error) {
    return fail(io, error, rest.includes("--verbose"));
  }
}

function fail(io: CliIO, error: unknown, verbose: boolean): number {
  const usage = isConclaveError(error) && ["USAGE", "CONFIG_INVALID", "GRAPH_NOT_FOUND", "DLQ_NOT_FOUND", "APPROVAL_INVALID", "CASSETTE_INVALID", "AUDIT_LOG_MISSING", "SECRETS_INVALID", "SUITE_NOT_FOUND", "EVAL_DATASET_INVALID", "THREAD_BUSY"].includes(error.code);
  const message = error instanceof Error ? error.message : String(error);
  const prefix = message.startsWith("conclave") ? "" : usage ? "conclave: " : "conclave: error: ";
  io.stderr(`${prefix}${message}\n`);
  if (verbose && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return usage ? 2 : 1;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** Runs as a program when executed directly (npm start, src/cli/bin.js). */
export async function runAsProgram(): Promise<void> {
  // LangGraph adds an abort listener per task in flight to signals it creates itself: a fan-out of
  // more than 10 is normal work, not a leak. Raise the default for every signal the CLI process makes.
  setMaxListeners(200);
  const controller = new AbortController();
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write("\nconclave: stopping (press Ctrl-C again to quit at once)\n");
    controller.abort(new Error("interrupted by Ctrl-C"));
  });
  process.exitCode = await main(process.argv.slice(2), processIO, controller.signal);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/src/cli/main.ts")) {
  await runAsProgram();
}
