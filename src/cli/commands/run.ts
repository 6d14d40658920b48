import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { loadConfig } from "../../config/load.ts";
import { UsageError, isConclaveError } from "../../errors.ts";
import { RunEvents } from "../../events/emitter.ts";
import { loadGraph, readRegistry } from "../../graph/registry.ts";
import { closeEmbeddingCaches, createChatModel } from "../../models/resolve.ts";
import { run } from "../../runtime/run.ts";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { definedOnly, reliabilityOptions } from "../run-options.ts";
import { parseCommandArgs, positiveInteger, positiveNumber } from "../args.ts";
import type { CliIO } from "../output.ts";
import { attachProgress, modelBanner } from "../progress.ts";

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
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

/** `conclave run "<task>"`: runs a registered graph and prints its answer (exit 0), or fails with the reason (exit 1). */
export async function runCommand(argv: string[], io: CliIO, signal: AbortSignal, options: { deadLetters?: boolean } = {}): Promise<number> {
  const { values, positionals } = parseCommandArgs("run", argv, RUN_OPTIONS);
  const task = positionals.join(" ").trim();
  if (!task) throw new UsageError(`conclave run: missing the task. Usage: conclave run "<task>" [--graph NAME] — see "conclave run --help".`);
  const stepLimit = positiveInteger("run", "step-limit", values["step-limit"]);
  const graphOptions = { ...definedOnly({ maxRounds: positiveInteger("run", "max-rounds", values["max-rounds"]), agents: positiveInteger("run", "agents", values.agents) }), ...(values.aggregate ? { aggregate: values.aggregate } : {}) };
  const maxTime = positiveNumber("run", "max-time", values["max-time"]);
  const runTimeout = positiveNumber("run", "timeout", values.timeout);
  const budget = definedOnly({
    maxModelCalls: positiveInteger("run", "max-model-calls", values["max-model-calls"]),
    maxTokens: positiveInteger("run", "max-tokens", values["max-tokens"]),
    maxCostUsd: positiveNumber("run", "max-cost", values["max-cost"]),
    maxWallTimeMs: maxTime === undefined ? undefined : maxTime * 1_000,
  });

  const flag = (value: unknown, name: string) => ({ value, flag: `--${name}` });
  const loaded = await loadConfig({
    cwd: io.cwd,
    env: io.env,
    ...(values.config ? { file: values.config } : {}),
    flags: { "cache.backend": flag(values.cache, "cache"), "model.name": flag(values.model, "model"), "model.provider": flag(values.provider, "provider"), "model.baseUrl": flag(values["base-url"], "base-url"), corpus: flag(values.corpus, "corpus") },
  });
  const { config } = loaded;
  const graphName = values.graph ?? config.defaultGraph ?? readRegistry(config, loaded.cwd)[0]?.name ?? "";
  const definition = await loadGraph(graphName, config, loaded.cwd);
  const { model, info } = createChatModel(config.model);
  const endpoint = info.offline ? undefined : (config.model.baseUrl ?? "https://api.openai.com/v1");

  // Build before printing anything, so a configuration problem is the only line on stderr.
  const graph = definition.build({ config, cwd: loaded.cwd, options: graphOptions });
  const reliability = reliabilityOptions(config, loaded.cwd);
  const events = new RunEvents();
  const failure = watchFailure(events);
  const progress = values.quiet ? undefined : attachProgress(events, io.stderr, { verbose: values.verbose ?? false });
  if (!values.quiet) io.stderr(`${modelBanner(info, endpoint)}\n`);
  try {
    const result = await run(graph, definition.input(task), {
      model: model as BaseChatModel,
      modelInfo: info,
      events,
      graphName,
      signal,
      timeoutMs: config.model.timeoutMs,
      ...reliability,
      ...(endpoint ? { endpoint } : {}),
      ...(values.thread ? { threadId: values.thread } : {}),
      ...(stepLimit ? { stepLimit } : {}),
      ...(runTimeout ? { runTimeoutMs: runTimeout * 1_000 } : {}),
      ...(Object.keys(budget).length ? { budget } : {}),
    });
    const { answer, citations, details } = definition.output(result.state);
    if (values.json) {
      io.stdout(`${JSON.stringify({ answer, citations, graph: graphName, model: info, threadId: result.threadId, usage: result.usage, ...details })}\n`);
    } else {
      io.stdout(`${answer}\n`);
      if (info.offline && !values.quiet) io.stderr(`(answered by the offline model ${info.name}: extractive, from tool results only)\n`);
    }
    return 0;
  } catch (error) {
    // A run that failed for good at the provider is kept, so it can be replayed once the fault clears.
    if (isConclaveError(error) && error.category === "provider" && options.deadLetters !== false) {
      const letter = deadLetter(loaded.cwd, { kind: "run", graph: graphName, input: task, options: { argv, model: { ...info, ...(endpoint ? { endpoint } : {}) } }, error: { code: error.code, message: error.message, category: error.category }, attempts: failure.attempts, traceId: failure.runId });
      io.stderr(letter instanceof Error ? `conclave: could not keep the run in the dead-letter queue: ${letter.message}\n` : `conclave: kept in the dead-letter queue as ${letter.id}; once the provider is back, replay it with: conclave dlq replay ${letter.id}\n`);
    }
    throw error;
  } finally {
    progress?.();
    await reliability.cache?.store.close();
    await closeEmbeddingCaches();
  }
}

/** The run's id and how many attempts its failing call made, read off its events. */
function watchFailure(events: RunEvents): { runId: string; attempts: number } {
  const seen = { runId: "", attempts: 1 };
  events.on("run-start", (event) => (seen.runId = event.runId));
  events.on("give-up", (event) => (seen.attempts = event.attempts));
  return seen;
}

function deadLetter(cwd: string, letter: Parameters<DeadLetterQueue["add"]>[0]) {
  try {
    const queue = new DeadLetterQueue({ cwd });
    try {
      return queue.add(letter);
    } finally {
      queue.close();
    }
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

