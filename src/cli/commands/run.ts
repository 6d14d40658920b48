import { randomUUID } from "node:crypto";
import { UsageError } from "../../errors.ts";
import { loadGraph, readRegistry } from "../../graph/registry.ts";
import { definedOnly } from "../run-options.ts";
import { parseCommandArgs, positiveInteger, positiveNumber } from "../args.ts";
import { executeThread } from "../execute.ts";
import type { CliIO } from "../output.ts";
import { openWorkspace } from "../workspace.ts";

const RUN_OPTIONS = {
  graph: { type: "string" },
  model: { type: "string" },
  provider: { type: "string" },
  "base-url": { type: "string" },
  corpus: { type: "string" },
  thread: { type: "string" },
  "step-limit": { type: "string" },
  "max-rounds": { type: "string" },
  agents: { type: "string" },
  aggregate: { type: "string" },
  "max-model-calls": { type: "string" },
  "max-tokens": { type: "string" },
  "max-cost": { type: "string" },
  "max-time": { type: "string" },
  cache: { type: "string" },
  timeout: { type: "string" },
  checkpoint: { type: "string" },
  "approve-answer": { type: "boolean" },
  record: { type: "string" },
  replay: { type: "string" },
  "log-level": { type: "string" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

/**
 * `conclave run "<task>"`: runs a registered graph on a new thread and prints its answer (exit 0),
 * its pending approvals (exit 3), or the reason it failed (exit 1). `conclave run --thread ID`
 * with no task resumes that thread from its last checkpoint.
 */
export async function runCommand(argv: string[], io: CliIO, signal: AbortSignal, options: { deadLetters?: boolean } = {}): Promise<number> {
  const { values, positionals } = parseCommandArgs("run", argv, RUN_OPTIONS);
  let task = positionals.join(" ").trim();
  if (values.record && values.replay) throw new UsageError("conclave run: --record and --replay cannot be used together: record a cassette once, then replay it.");
  const stepLimit = positiveInteger("run", "step-limit", values["step-limit"]);
  const maxTime = positiveNumber("run", "max-time", values["max-time"]);
  const runTimeout = positiveNumber("run", "timeout", values.timeout);
  const budget = definedOnly({
    maxModelCalls: positiveInteger("run", "max-model-calls", values["max-model-calls"]),
    maxTokens: positiveInteger("run", "max-tokens", values["max-tokens"]),
    maxCostUsd: positiveNumber("run", "max-cost", values["max-cost"]),
    maxWallTimeMs: maxTime === undefined ? undefined : maxTime * 1_000,
  });
  const flag = (value: unknown, name: string) => ({ value, flag: `--${name}` });
  const workspace = await openWorkspace(io, {
    ...(values.config ? { configFile: values.config } : {}),
    flags: { "cache.backend": flag(values.cache, "cache"), "model.name": flag(values.model, "model"), "model.provider": flag(values.provider, "provider"), "model.baseUrl": flag(values["base-url"], "base-url"), corpus: flag(values.corpus, "corpus"), "checkpoint.backend": flag(values.checkpoint, "checkpoint"), "log.level": flag(values["log-level"], "log-level") },
  });
  try {
    if (!task && !values.thread) {
      // A graph that bundles a sample task runs it: every example works with no arguments.
      const name = values.graph ?? workspace.config.defaultGraph ?? readRegistry(workspace.config, workspace.cwd)[0]?.name ?? "";
      const sample = (await loadGraph(name, workspace.config, workspace.cwd)).sample;
      if (!sample) throw new UsageError(`conclave run: missing the task (graph "${name}" bundles no sample). Usage: conclave run "<task>" [--graph NAME], or conclave run --thread ID to resume a thread — see "conclave run --help".`);
      if (!values.quiet) io.stderr(`no task given: running ${name}'s sample input: ${sample.length > 160 ? `${sample.slice(0, 159)}…` : sample}\n`);
      task = sample;
    }
    const common = {
      workspace,
      io,
      signal,
      argv,
      deadLetters: options.deadLetters !== false,
      runOptions: { ...(stepLimit ? { stepLimit } : {}), ...(runTimeout ? { runTimeoutMs: runTimeout * 1_000 } : {}), ...(Object.keys(budget).length ? { budget } : {}) },
      output: { json: values.json ?? false, quiet: values.quiet ?? false, verbose: values.verbose ?? false },
      ...(values.record ? { record: values.record } : {}),
      ...(values.replay ? { replay: values.replay } : {}),
    };
    if (!task) {
      // Resume: the thread says which graph and options it runs with.
      const thread = workspace.threads.get(values.thread!);
      if (!thread) throw new UsageError(`conclave run: there is no thread "${values.thread}" in this workspace (${workspace.cwd}). "conclave runs" lists the threads; start a new one with conclave run "<task>".`);
      if (thread.status === "done") throw new UsageError(`conclave run: thread "${thread.threadId}" is done${thread.answer ? ` (answer: ${thread.answer.slice(0, 80)})` : ""}. Start a new run with conclave run "<task>", or continue from an earlier step with conclave fork ${thread.threadId} --at CHECKPOINT.`);
      if (thread.status === "interrupted") throw new UsageError(`conclave run: thread "${thread.threadId}" waits for ${thread.pending.length} approval(s). Decide with conclave approve ${thread.threadId} or conclave reject ${thread.threadId} --reason "…" ("conclave pending" shows them).`);
      if (thread.status === "running") throw new UsageError(`conclave run: thread "${thread.threadId}" is running in process ${thread.pid}. Wait for it, or stop that process first.`);
      if (values.graph && values.graph !== thread.graph) throw new UsageError(`conclave run: thread "${thread.threadId}" runs graph "${thread.graph}", not "${values.graph}". Drop --graph to resume it.`);
      if (!values.quiet) io.stderr(`resuming thread ${thread.threadId} (${thread.graph}) from its last checkpoint${thread.error ? `; it stopped because ${thread.error.split("; resume")[0]}` : ""}\n`);
      return await executeThread({ ...common, graphName: thread.graph, threadId: thread.threadId, graphOptions: thread.options, task: thread.task, drive: { kind: "resume" } });
    }
    const graphName = values.graph ?? workspace.config.defaultGraph ?? readRegistry(workspace.config, workspace.cwd)[0]?.name ?? "";
    const graphOptions = { ...definedOnly({ maxRounds: positiveInteger("run", "max-rounds", values["max-rounds"]), agents: positiveInteger("run", "agents", values.agents) }), ...(values.aggregate ? { aggregate: values.aggregate } : {}), ...(values["approve-answer"] ? { approveAnswer: true } : {}) };
    const threadId = values.thread ?? randomUUID();
    if (!values.replay && workspace.threads.get(threadId)) throw new UsageError(`conclave run: thread "${threadId}" already exists. Resume it with conclave run --thread ${threadId} (no task), or pick a new --thread id.`);
    return await executeThread({ ...common, graphName, threadId, threadIdGiven: values.thread !== undefined, graphOptions, task, drive: { kind: "new", task } });
  } finally {
    await workspace.close();
  }
}
