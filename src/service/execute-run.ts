import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import type { GraphDefinition } from "../graph/define-graph.ts";
import { loadGraph } from "../graph/registry.ts";
import { approvalsOf } from "../hitl/decisions.ts";
import type { ApprovalDecision, PendingApproval } from "../hitl/decisions.ts";
import { closeEmbeddingCaches, createChatModel } from "../models/resolve.ts";
import { attachCheckpointer, resume, run, stateOf } from "../runtime/run.ts";
import type { RunOptions, RunResult, RunnableGraph } from "../runtime/run.ts";
import { reliabilityOptions } from "../cli/run-options.ts";
import type { Workspace } from "../cli/workspace.ts";
import { observeRun } from "../cli/workspace.ts";
import type { ServiceRun } from "./types.ts";

/** How a run is driven: started, or resumed from its thread's last checkpoint (with decisions, if any). */
export type Drive = { kind: "new" } | { kind: "resume"; decisions: Record<string, ApprovalDecision> };

/**
 * Executes one service run as `executeThread` does for the CLI, without the terminal: build, run or
 * resume, keep the thread's status. Shared by the in-process queue (`conclave serve`) and the BullMQ
 * worker (`conclave worker`). A "resume" of a thread without checkpoints starts it instead. Returns
 * the settled record (done or interrupted); throws when the run failed or was aborted.
 */
export async function executeServiceRun(workspace: Workspace, record: ServiceRun, input: string, drive: Drive, signal: AbortSignal, onEvent?: (runId: string, event: ConclaveEvent) => void): Promise<ServiceRun> {
  const { config, cwd } = workspace;
  const definition = (await loadGraph(record.graph, config, cwd)) as GraphDefinition<RunnableGraph>;
  const { model, info } = createChatModel(config.model);
  const endpoint = info.offline ? undefined : (config.model.baseUrl ?? "https://api.openai.com/v1");
  const graph = definition.build({ config, cwd, options: {} });
  const saver = (await workspace.checkpointer()).saver;
  const reliability = reliabilityOptions(config, cwd);
  const events = new RunEvents();
  const stopObserving = observeRun(workspace, events);
  events.on("event", (event: ConclaveEvent) => onEvent?.(record.id, event));
  events.once("run-start", (event) => workspace.threads.started({ threadId: record.threadId, graph: record.graph, task: record.input, options: {}, runId: event.runId }));
  const options: RunOptions = {
    model: model as BaseChatModel,
    modelInfo: info,
    events,
    graphName: record.graph,
    signal,
    timeoutMs: config.model.timeoutMs,
    ...reliability,
    ...(endpoint ? { endpoint } : {}),
    threadId: record.threadId,
    checkpointer: saver,
    effects: workspace.effects,
    redact: (value) => workspace.redactor.redactValue(value),
    ...(config.approveAnswer ? { approveAnswer: true } : {}),
  };
  try {
    const resumeDecisions = drive.kind === "resume" && Object.keys(drive.decisions).length ? { decisions: drive.decisions } : {};
    // A run left before its first checkpoint has nothing to resume: it starts again.
    attachCheckpointer(graph, saver);
    const fresh = drive.kind === "new" || !(await stateOf(graph, { configurable: { thread_id: record.threadId } }).catch(() => undefined))?.config?.configurable?.checkpoint_id;
    const result: RunResult<unknown> = fresh ? await run(graph, definition.input(input) as never, options) : await resume(graph, { ...options, threadId: record.threadId, ...resumeDecisions });
    if (result.status === "interrupted") {
      const pending = workspace.redactor.redactValue(result.pending);
      workspace.threads.ended(record.threadId, "interrupted", { pending });
      return { ...record, status: "interrupted", pending };
    }
    const { answer, citations, details } = definition.output(result.state as never);
    workspace.threads.ended(record.threadId, "done", { answer: workspace.redactor.redact(answer) });
    return { ...record, status: "done", result: workspace.redactor.redactValue({ answer, citations, ...(details ? { details } : {}) }) };
  } catch (error) {
    // A resume that failed may still hold approvals: keep them waiting, or the run could never be continued.
    const pending = await pendingOf(graph, record.threadId).catch(() => []);
    const message = workspace.redactor.redact(error instanceof Error ? error.message : String(error));
    if (pending.length && !signal.aborted) {
      workspace.threads.ended(record.threadId, "interrupted", { pending: workspace.redactor.redactValue(pending), error: message });
      return { ...record, status: "interrupted", pending: workspace.redactor.redactValue(pending), error: message };
    }
    workspace.threads.ended(record.threadId, "failed", { error: message });
    throw error;
  } finally {
    await stopObserving();
    await reliability.cache?.store.close();
    await closeEmbeddingCaches();
  }
}

export async function pendingOf(graph: RunnableGraph, threadId: string): Promise<PendingApproval[]> {
  const snapshot = await stateOf(graph, { configurable: { thread_id: threadId } });
  return approvalsOf(snapshot?.tasks.flatMap((task) => task.interrupts ?? []) ?? []);
}
