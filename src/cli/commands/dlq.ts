import { resolve } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import type { DeadLetter } from "../../resilience/dead-letters.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";
import { runCommand } from "./run.ts";
import { BullRunQueue } from "../../service/bullmq-queue.ts";
import { RedisEventBus } from "../../service/events/redis-bus.ts";
import { queueTarget, requireQueueServices } from "./queue-target.ts";

const DLQ_OPTIONS = { json: { type: "boolean" }, all: { type: "boolean" }, status: { type: "string" }, "any-model": { type: "boolean" }, queue: { type: "string" }, "queue-name": { type: "string" }, prefix: { type: "string" } } as const;

/**
 * `conclave dlq list | show ID | replay ID|--all | drop ID`: the runs that failed for good, kept
 * in `.conclave/dlq.sqlite`. Replay runs them again with their original flags; a success marks
 * the letter replayed and prints the answer.
 */
export async function dlqCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("dlq", argv, DLQ_OPTIONS);
  const [action, id] = positionals;
  if (values.queue !== undefined && values.queue !== "local") {
    if (values.queue !== "bullmq") throw new UsageError(`conclave dlq: --queue is "local" (the CLI's .conclave/dlq.sqlite, the default) or "bullmq" (the worker queue's failed runs), got "${values.queue}".`);
    return queueDeadLetters(action, id, values, io);
  }
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

/** `conclave dlq … --queue bullmq`: the failed runs of the BullMQ queue the workers consume. */
async function queueDeadLetters(action: string | undefined, id: string | undefined, values: { json?: boolean; all?: boolean; "queue-name"?: string; prefix?: string }, io: CliIO): Promise<number> {
  const services = requireQueueServices("dlq --queue bullmq", io.env);
  const target = queueTarget(values, io.env);
  // Status changes (failed, queued again) go on the event stream that servers and subscribers read.
  const events = new RedisEventBus({ redis: services.redisUrl, namespace: target.namespace });
  const queue = new BullRunQueue({ ...services, queueName: target.queueName, prefix: target.prefix, events });
  try {
    switch (action) {
      case "list": {
        const letters = await queue.deadLetters({ limit: 1_000 });
        if (values.json) io.stdout(`${JSON.stringify(letters)}\n`);
        else if (letters.length === 0) io.stdout(`The dead-letter queue of ${target.prefix}:${target.queueName} is empty.\n`);
        else for (const letter of letters) io.stdout(`${letter.runId}  ${new Date(letter.failedAt).toISOString()}  ${letter.graph}  attempts ${letter.attempts}  stalls ${letter.stalls}  ${clip(letter.reason, 70)}  ${clip(letter.input, 40)}\n`);
        return 0;
      }
      case "show": {
        const letter = (await queue.deadLetters({ limit: 1_000 })).find((candidate) => candidate.runId === required(id, "show"));
        if (!letter) throw new UsageError(`conclave dlq: run "${id}" is not in the dead-letter queue of ${target.prefix}:${target.queueName}. conclave dlq list --queue bullmq lists them.`);
        io.stdout(`${JSON.stringify({ ...letter, run: await queue.get(letter.runId) }, null, 2)}\n`);
        return 0;
      }
      case "replay": {
        const ids = values.all ? (await queue.deadLetters({ limit: 1_000 })).map((letter) => letter.runId) : [required(id, "replay")];
        if (ids.length === 0) io.stdout("Nothing to replay.\n");
        for (const runId of ids) {
          await queue.retryDeadLetter(runId);
          io.stdout(`Queued ${runId} again: a worker resumes it from its last checkpoint.\n`);
        }
        return 0;
      }
      case "drop": {
        if (!(await queue.dropDeadLetter(required(id, "drop")))) throw new UsageError(`conclave dlq: run "${id}" is not in the dead-letter queue of ${target.prefix}:${target.queueName}.`);
        io.stdout(`Dropped ${id} (the run stays failed).\n`);
        return 0;
      }
      default:
        throw new UsageError(`conclave dlq: unknown action ${action === undefined ? "(none)" : `"${action}"`}. Use list, show ID, replay ID|--all or drop ID — see "conclave dlq --help".`);
    }
  } finally {
    await queue.close();
    await events.close();
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
