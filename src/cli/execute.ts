import { resolve } from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { isConclaveError, UsageError } from "../errors.ts";
import { approvalsOf } from "../hitl/decisions.ts";
import { stateOf } from "../runtime/run.ts";
import { RunEvents } from "../events/emitter.ts";
import type { GraphDefinition, GraphOptions } from "../graph/define-graph.ts";
import { loadGraph } from "../graph/registry.ts";
import type { ApprovalDecision, PendingApproval } from "../hitl/decisions.ts";
import { closeEmbeddingCaches, createChatModel } from "../models/resolve.ts";
import { MemorySaver } from "@langchain/langgraph";
import { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { Cassette } from "../replay/index.ts";
import { resume, run } from "../runtime/run.ts";
import type { RunOptions, RunResult, RunnableGraph } from "../runtime/run.ts";
import type { ThreadRecord } from "../persistence/thread-store.ts";
import type { CliIO } from "./output.ts";
import { attachProgress, modelBanner } from "./progress.ts";
import { reliabilityOptions } from "./run-options.ts";
import type { Workspace } from "./workspace.ts";
import { observeRun } from "./workspace.ts";

/** Exit code of a run that paused for approvals: not a failure, but not an answer either. */
export const EXIT_PAUSED = 3;

/** How a thread is to be driven: a new run on a task, or a resume (after a crash, with decisions, or from an earlier checkpoint). */
export type Drive =
  | { kind: "new"; task: string }
  | { kind: "resume"; decisions?: ApprovalDecision | Record<string, ApprovalDecision>; checkpointId?: string };

export interface ExecuteRequest {
  workspace: Workspace;
  io: CliIO;
  signal: AbortSignal;
  graphName: string;
  threadId: string;
  /** Graph options, kept with the thread so a resume rebuilds the same graph. */
  graphOptions: GraphOptions;
  drive: Drive;
  /** The task, for the thread record (a resume passes the recorded one). */
  task: string;
  runOptions?: Pick<RunOptions, "stepLimit" | "budget" | "runTimeoutMs">;
  output: { json: boolean; quiet: boolean; verbose: boolean };
  record?: string;
  replay?: string;
  /** For the dead-letter queue: the original argv. */
  argv?: string[];
  /** Keep a run that failed at the provider in the dead-letter queue (not when replaying one from it). */
  deadLetters?: boolean;
  /** The user named the thread (a replay otherwise reuses the recorded thread id, so its output is identical). */
  threadIdGiven?: boolean;
}

/**
 * Builds the thread's graph, runs or resumes it with the workspace's checkpointer, ledger and
 * observers, keeps the thread's status, and prints the answer, the pending approvals, or the
 * failure (a provider failure also goes to the dead-letter queue). Returns the exit code.
 */
export async function executeThread(request: ExecuteRequest): Promise<number> {
  const { workspace, io, output } = request;
  const { config, cwd } = workspace;
  const definition = (await loadGraph(request.graphName, config, cwd)) as GraphDefinition<RunnableGraph>;
  const { model, info } = createChatModel(config.model);
  const endpoint = info.offline ? undefined : (config.model.baseUrl ?? "https://api.openai.com/v1");
  const graph = definition.build({ config, cwd, options: request.graphOptions });
  const cassette = request.replay ? Cassette.load(request.replay) : request.record ? Cassette.recorder(request.record, { graph: request.graphName, threadId: request.threadId, model: info, task: request.task }, { redact: (text) => workspace.redactor.redact(text) }) : undefined;
  // A replay is a rerun of a recording, not a continuation of a thread: it keeps nothing.
  const saver = request.replay ? new MemorySaver() : (await workspace.checkpointer()).saver;
  // Recording keeps real answers: a cached one would replay as a paid call and change the output.
  const reliability = withoutCache(reliabilityOptions(config, cwd), Boolean(request.record));
  if (cassette?.mode === "replay" && !request.threadIdGiven && cassette.meta.threadId) request.threadId = cassette.meta.threadId;
  const events = new RunEvents();
  const stopObserving = request.replay ? undefined : observeRun(workspace, events);
  const failure = watchFailure(events);
  const progress = output.quiet ? undefined : attachProgress(events, (text) => io.stderr(workspace.redactor.redact(text)), { verbose: output.verbose });
  if (!output.quiet) io.stderr(`${modelBanner(info, endpoint)}${request.replay ? ` — replaying ${request.replay}: no model or tool is called` : ""}\n`);
  for (const warning of workspace.warnings) io.stderr(`conclave: warning: ${warning}\n`);
  const keep = !request.replay;
  const options: RunOptions = {
    model: model as BaseChatModel,
    modelInfo: info,
    events,
    graphName: request.graphName,
    signal: request.signal,
    timeoutMs: config.model.timeoutMs,
    ...reliability,
    ...(endpoint ? { endpoint } : {}),
    threadId: request.threadId,
    checkpointer: saver,
    effects: workspace.effects,
    redact: (value) => workspace.redactor.redactValue(value),
    ...(config.approveAnswer || request.graphOptions.approveAnswer === true ? { approveAnswer: true } : {}),
    ...(cassette ? { cassette } : {}),
    ...request.runOptions,
  };
  events.once("run-start", (event) => keep && workspace.threads.started({ threadId: request.threadId, graph: request.graphName, task: workspace.redactor.redact(request.task), options: request.graphOptions, runId: event.runId }));
  try {
    const result = request.drive.kind === "new" ? await run(graph, definition.input(request.task) as never, options) : await resume(graph, { ...options, threadId: request.threadId, ...(request.drive.decisions ? { decisions: request.drive.decisions } : {}), ...(request.drive.checkpointId ? { checkpointId: request.drive.checkpointId } : {}) });
    return report(request, definition, result, info, keep);
  } catch (error) {
    // A resume that failed may still hold approvals (a provider failed after one was decided): keep them waiting, or the thread could never be continued.
    const pending = keep ? await pendingOf(graph, request.threadId).catch(() => []) : [];
    if (keep && pending.length) workspace.threads.ended(request.threadId, "interrupted", { pending: workspace.redactor.redactValue(pending), error: workspace.redactor.redact(error instanceof Error ? error.message : String(error)) });
    else if (keep) workspace.threads.ended(request.threadId, "failed", { error: workspace.redactor.redact(error instanceof Error ? error.message : String(error)) });
    // Only a new run goes to the dead-letter queue: replaying a resumed one as new would repeat its effects; resume it instead.
    if (isConclaveError(error) && error.category === "provider" && !request.replay && request.deadLetters !== false && request.drive.kind === "new") {
      const letter = deadLetter(resolve(cwd, config.stateDir, "dlq.sqlite"), { kind: "run", graph: request.graphName, input: workspace.redactor.redact(request.task), options: { argv: (request.argv ?? []).map((arg) => workspace.redactor.redact(arg)), model: { ...info, ...(endpoint ? { endpoint } : {}) } }, error: { code: error.code, message: workspace.redactor.redact(error.message), category: error.category }, attempts: failure.attempts, traceId: failure.runId });
      io.stderr(letter instanceof Error ? `conclave: could not keep the run in the dead-letter queue: ${letter.message}\n` : `conclave: kept in the dead-letter queue as ${letter.id}; once the provider is back, replay it with: conclave dlq replay ${letter.id} (or resume the thread: conclave run --thread ${request.threadId})\n`);
    }
    throw workspace.redactor.redactError(error);
  } finally {
    progress?.();
    try {
      if (cassette?.mode === "record") cassette.save();
    } catch (error) {
      io.stderr(`conclave: could not write the cassette ${request.record}: ${(error as Error).message}\n`);
    }
    if (cassette?.mode === "replay" && cassette.unused().length && !output.quiet) io.stderr(`conclave: warning: ${cassette.unused().length} recording(s) in ${request.replay} were not used\n`);
    await stopObserving?.();
    await reliability.cache?.store.close();
    await closeEmbeddingCaches();
  }
}

function report(request: ExecuteRequest, definition: GraphDefinition<RunnableGraph>, result: RunResult<unknown>, info: { offline: boolean; name: string }, keep: boolean): number {
  const { workspace, io, output } = request;
  if (result.status === "interrupted") {
    if (keep && workspace.config.checkpoint.backend === "memory") {
      workspace.threads.ended(request.threadId, "failed", { error: "paused for approval on the memory checkpoint store, which forgot it when the command ended" });
      throw new UsageError(`The run paused for ${result.pending.length} approval(s), but checkpoint.backend is "memory", so the paused run is gone when this command ends and cannot be approved. Use --checkpoint sqlite (the default) or postgres for runs that need approval.`);
    }
    const pending = workspace.redactor.redactValue(result.pending);
    if (keep) workspace.threads.ended(request.threadId, "interrupted", { pending });
    if (output.json) io.stdout(`${JSON.stringify({ status: "interrupted", threadId: result.threadId, graph: request.graphName, pending, usage: result.usage })}\n`);
    else io.stdout(describePending(request.threadId, pending));
    return EXIT_PAUSED;
  }
  const { answer, citations, details } = definition.output(result.state as never);
  if (keep) workspace.threads.ended(request.threadId, "done", { answer: workspace.redactor.redact(answer) });
  if (output.json) {
    io.stdout(`${JSON.stringify(workspace.redactor.redactValue({ answer, citations, graph: request.graphName, model: result.model, threadId: result.threadId, usage: result.usage, ...details }))}\n`);
  } else {
    io.stdout(`${workspace.redactor.redact(answer)}\n`);
    if (info.offline && !output.quiet && result.usage.modelCalls > 0) io.stderr(`(answered by the offline model ${info.name}: extractive, from tool results only)\n`);
  }
  return 0;
}

async function pendingOf(graph: RunnableGraph, threadId: string): Promise<PendingApproval[]> {
  const snapshot = await stateOf(graph, { configurable: { thread_id: threadId } });
  return approvalsOf(snapshot?.tasks.flatMap((task) => task.interrupts ?? []) ?? []);
}

function withoutCache<T extends { cache?: unknown }>(options: T, drop: boolean): T {
  if (!drop || !options.cache) return options;
  const { cache: _cache, ...rest } = options;
  return rest as T;
}

/** Continues a recorded thread (approve, reject, fork): its graph, options and task come from the thread store. */
export function continueThread(thread: ThreadRecord, drive: Extract<Drive, { kind: "resume" }>, context: Pick<ExecuteRequest, "workspace" | "io" | "signal">, flags: { json?: boolean; quiet?: boolean; verbose?: boolean }): Promise<number> {
  return executeThread({
    ...context,
    graphName: thread.graph,
    threadId: thread.threadId,
    graphOptions: thread.options,
    task: thread.task,
    drive,
    output: { json: flags.json ?? false, quiet: flags.quiet ?? false, verbose: flags.verbose ?? false },
  });
}

/** What a paused thread waits for, and the commands that continue it. */
export function describePending(threadId: string, pending: readonly PendingApproval[]): string {
  const lines = [`paused: thread ${threadId} waits for ${pending.length} approval${pending.length === 1 ? "" : "s"}`];
  for (const approval of pending) lines.push(`  ${approval.interruptId}  ${approval.request.summary}`);
  lines.push(`approve: conclave approve ${threadId}${pending.length > 1 ? " [--id ID]" : ""} [--edit JSON]`, `reject:  conclave reject ${threadId}${pending.length > 1 ? " [--id ID]" : ""} --reason "why"`);
  return `${lines.join("\n")}\n`;
}

function watchFailure(events: RunEvents): { runId: string; attempts: number } {
  const seen = { runId: "", attempts: 1 };
  events.on("run-start", (event) => (seen.runId = event.runId));
  events.on("give-up", (event) => (seen.attempts = event.attempts));
  return seen;
}

function deadLetter(path: string, letter: Parameters<DeadLetterQueue["add"]>[0]) {
  try {
    const queue = new DeadLetterQueue({ path });
    try {
      return queue.add(letter);
    } finally {
      queue.close();
    }
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
