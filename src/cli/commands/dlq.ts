import { resolve } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import type { DeadLetter } from "../../resilience/dead-letters.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";
import { runCommand } from "./run.ts";

const DLQ_OPTIONS = { json: { type: "boolean" }, all: { type: "boolean" }, status: { type: "string" }, "any-model": { type: "boolean" } } as const;

/**
 * `conclave dlq list | show ID | replay ID|--all | drop ID`: the runs that failed for good, kept
 * in `.conclave/dlq.sqlite`. Replay runs them again with their original flags; a success marks
 * the letter replayed and prints the answer.
 */
export async function dlqCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("dlq", argv, DLQ_OPTIONS);
  const [action, id] = positionals;
  // The queue lives in the state folder (stateDir, CONCLAVE_STATE_DIR), beside the threads.
  const { config, cwd } = await loadConfig({ cwd: io.cwd, env: io.env, ...(values.config ? { file: values.config } : {}) });
  const queue = new DeadLetterQueue({ path: resolve(cwd, config.stateDir, "dlq.sqlite") });
  try {
    switch (action) {
      case "list": {
        const status = values.status === undefined ? undefined : statusOf(values.status);
        const letters = queue.list(status);
        if (values.json) io.stdout(`${JSON.stringify(letters)}\n`);
        else if (letters.length === 0) io.stdout("The dead-letter queue is empty.\n");
        else for (const letter of letters) io.stdout(`${letter.id}  ${letter.status.padEnd(8)}  ${new Date(letter.createdAt).toISOString()}  ${letter.kind === "run" ? letter.graph : `${letter.graph} (${letter.kind})`}  ${letter.error.code}  ${clip(typeof letter.input === "string" ? letter.input : JSON.stringify(letter.input), 60)}\n`);
        return 0;
      }
      case "show": {
        const letter = queue.require(required(id, "show"));
        io.stdout(`${JSON.stringify(letter, null, 2)}\n`);
        return 0;
      }
      case "drop": {
        queue.drop(required(id, "drop"));
        io.stdout(`Dropped ${id}.\n`);
        return 0;
      }
      case "replay": {
        const letters = values.all ? queue.list("dead") : [queue.require(required(id, "replay"))];
        if (letters.length === 0) io.stdout("Nothing to replay.\n");
        let failed = 0;
        for (const letter of letters) failed += (await replay(letter, queue, io, signal, values["any-model"] ?? false)) ? 0 : 1;
        return failed === 0 ? 0 : 1;
      }
      default:
        throw new UsageError(`conclave dlq: unknown action ${action === undefined ? "(none)" : `"${action}"`}. Use list, show ID, replay ID|--all or drop ID — see "conclave dlq --help".`);
    }
  } finally {
    queue.close();
  }
}

function withoutThread(argv: string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === "--thread") index++;
    else if (!argv[index]!.startsWith("--thread=")) out.push(argv[index]!);
  }
  return out;
}

/** Runs a letter again; true when it succeeded (the letter is then marked replayed). */
async function replay(letter: DeadLetter, queue: DeadLetterQueue, io: CliIO, signal: AbortSignal, anyModel: boolean): Promise<boolean> {
  if (letter.kind !== "run") {
    io.stderr(`conclave dlq: ${letter.id} is a ${letter.kind}; replay it with the batch that produced it.\n`);
    return false;
  }
  let output = "";
  // The original flags, task included, with --json so the answer can be kept.
  // A replay is a new run on a new thread; the failed thread stays as it was (resumable with --thread).
  const argv = [...withoutThread((letter.options.argv as string[] | undefined) ?? [String(letter.input)]).filter((part) => part !== "--json"), "--json"];
  const captured: CliIO = { ...io, stdout: (text) => void (output += text) };
  try {
    await runCommand(argv, captured, signal, { deadLetters: false });
  } catch (error) {
    io.stderr(`conclave dlq: replay of ${letter.id} failed again: ${(error as Error).message}\n`);
    return false;
  }
  const result = JSON.parse(output) as { answer: string; model?: { provider: string; name: string } };
  const before = letter.options.model as { provider?: string; name?: string } | undefined;
  if (!anyModel && before && result.model && (before.provider !== result.model.provider || before.name !== result.model.name)) {
    io.stderr(`conclave dlq: ${letter.id} ran on ${before.provider}/${before.name} but the replay used ${result.model.provider}/${result.model.name}; it stays dead. Configure the same provider (OPENAI_BASE_URL, CONCLAVE_MODEL) or pass --any-model.\n`);
    return false;
  }
  queue.markReplayed(letter.id, result);
  io.stdout(`${letter.id} replayed: ${result.answer}\n`);
  return true;
}

function required(id: string | undefined, action: string): string {
  if (!id) throw new UsageError(`conclave dlq ${action}: missing the id. Run "conclave dlq list" to see the ids.`);
  return id;
}

function statusOf(value: string): DeadLetter["status"] {
  if (value !== "dead" && value !== "replayed") throw new UsageError(`conclave dlq list: --status must be "dead" or "replayed", got "${value}".`);
  return value;
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
