import { UsageError } from "../../errors.ts";
import type { GraphDefinition } from "../../graph/define-graph.ts";
import { loadGraph } from "../../graph/registry.ts";
import type { ThreadRecord } from "../../persistence/thread-store.ts";
import { attachCheckpointer } from "../../runtime/run.ts";
import type { RunnableGraph } from "../../runtime/run.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";
import type { Workspace } from "../workspace.ts";
import { openWorkspace } from "../workspace.ts";
import type { OpenWorkspaceOptions } from "../workspace.ts";

const STATUSES = ["running", "interrupted", "done", "failed"] as const;

/** `conclave runs`: the workspace's threads, newest first, with their status. */
export async function runsCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("runs", argv, { json: { type: "boolean" }, status: { type: "string" }, limit: { type: "string" } });
  if (values.status && !STATUSES.includes(values.status as never)) throw new UsageError(`conclave runs: --status must be one of ${STATUSES.join(", ")}, got "${values.status}".`);
  return withWorkspace(io, values.config, async (workspace) => {
    const threads = workspace.threads.list({ ...(values.status ? { status: values.status as ThreadRecord["status"] } : {}), limit: Number(values.limit ?? 50) || 50 });
    if (values.json) {
      io.stdout(`${JSON.stringify(threads)}\n`);
      return 0;
    }
    if (!threads.length) {
      io.stdout(`no runs yet in ${workspace.cwd}; start one with conclave run "<task>"\n`);
      return 0;
    }
    for (const thread of threads) {
      const note = thread.status === "interrupted" ? `${thread.pending.length} approval(s) pending` : thread.status === "failed" ? (thread.error ?? "") : thread.status === "done" ? (thread.answer ?? "") : thread.pid ? `pid ${thread.pid}` : "";
      io.stdout(`${thread.threadId}  ${thread.status.padEnd(11)}  ${thread.graph.padEnd(14)}  ${new Date(thread.updatedAt).toISOString()}  ${clip(thread.task, 50)}${note ? `  — ${clip(note, 90)}` : ""}\n`);
    }
    return 0;
  });
}

/** `conclave pending`: every approval the workspace's paused threads wait for. */
export async function pendingCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("pending", argv, { json: { type: "boolean" } });
  return withWorkspace(io, values.config, async (workspace) => {
    const paused = workspace.threads.list({ status: "interrupted" });
    const rows = paused.flatMap((thread) => thread.pending.map((approval) => ({ threadId: thread.threadId, graph: thread.graph, task: thread.task, ...approval })));
    if (values.json) io.stdout(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) io.stdout("nothing is waiting for approval\n");
    else for (const row of rows) io.stdout(`${row.threadId}  ${row.interruptId}  ${row.request.kind === "tool" ? "tool call" : "answer"}: ${clip(row.request.summary, 120)}\n`);
    return 0;
  });
}

/** `conclave inspect THREAD`: the checkpoint history — step, the nodes that ran, round, and what changed in the state. */
export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs("inspect", argv, { json: { type: "boolean" } });
  const threadId = positionals[0];
  if (!threadId) throw new UsageError('conclave inspect: missing the thread id. Usage: conclave inspect THREAD ("conclave runs" lists them).');
  return withWorkspace(io, values.config, async (workspace) => {
    const thread = requireThread(workspace, "inspect", threadId);
    const graph = await threadGraph(workspace, thread);
    const history = await checkpointHistory(graph, threadId);
    if (values.json) {
      io.stdout(`${JSON.stringify(workspace.redactor.redactValue({ threadId, graph: thread.graph, status: thread.status, checkpoints: history }))}\n`);
      return 0;
    }
    io.stdout(`thread ${threadId} · ${thread.graph} · ${thread.status} · ${history.length} checkpoints (fork from one with: conclave fork ${threadId} --at CHECKPOINT)\n`);
    for (const entry of history) {
      io.stdout(`${entry.checkpointId}  step ${String(entry.step).padStart(3)}  ${entry.source.padEnd(5)}  ${(entry.ran.join(",") || "-").padEnd(24)}${entry.round !== undefined ? ` round ${entry.round}` : ""}${entry.next.length ? `  next: ${entry.next.join(",")}` : ""}\n`);
      for (const change of entry.changes) io.stdout(`      ${workspace.redactor.redact(change)}\n`);
    }
    return 0;
  });
}

/** One checkpoint, oldest first, with what the step changed. */
export interface CheckpointEntry {
  checkpointId: string;
  step: number;
  source: string;
  /** The nodes whose writes made this checkpoint. */
  ran: string[];
  next: string[];
  round?: number;
  createdAt?: string;
  changes: string[];
}

export async function checkpointHistory(graph: RunnableGraph, threadId: string): Promise<CheckpointEntry[]> {
  const getStateHistory = (graph as { getStateHistory?: (config: unknown) => AsyncIterable<Snapshot> }).getStateHistory;
  if (typeof getStateHistory !== "function") throw new UsageError("conclave inspect: this graph has no checkpoint history (it is not a LangGraph graph).");
  const snapshots: Snapshot[] = [];
  for await (const snapshot of getStateHistory.call(graph, { configurable: { thread_id: threadId } })) snapshots.push(snapshot);
  snapshots.reverse();
  return snapshots.map((snapshot, index) => {
    const previous = snapshots[index - 1];
    const round = (snapshot.values as { round?: unknown } | undefined)?.round;
    return {
      checkpointId: String(snapshot.config?.configurable?.checkpoint_id ?? ""),
      step: Number(snapshot.metadata?.step ?? index - 1),
      source: String(snapshot.metadata?.source ?? ""),
      ran: [...new Set(previous?.next ?? [])],
      next: [...new Set(snapshot.next ?? [])],
      ...(typeof round === "number" ? { round } : {}),
      ...(snapshot.createdAt ? { createdAt: snapshot.createdAt } : {}),
      changes: diff(previous?.values, snapshot.values),
    };
  });
}

interface Snapshot {
  values?: unknown;
  next?: string[];
  config?: { configurable?: Record<string, unknown> };
  metadata?: { step?: number; source?: string };
  createdAt?: string;
}

/** What changed between two states, one line per top-level key. */
export function diff(before: unknown, after: unknown): string[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const was = a[key];
    const now = b[key];
    if (JSON.stringify(was) === JSON.stringify(now)) continue;
    if (Array.isArray(now) && (Array.isArray(was) || was === undefined)) {
      const added = now.length - (Array.isArray(was) ? was.length : 0);
      lines.push(`${key}: ${added >= 0 ? `+${added}` : added} item(s), ${now.length} in all${added > 0 ? ` — last: ${clip(JSON.stringify(now.at(-1)), 100)}` : ""}`);
    } else lines.push(`${key}: ${clip(JSON.stringify(was) ?? "(unset)", 60)} → ${clip(JSON.stringify(now) ?? "(unset)", 100)}`);
  }
  return lines;
}

/** The thread's graph, rebuilt as it was run and joined to the workspace's checkpointer. */
export async function threadGraph(workspace: Workspace, thread: ThreadRecord): Promise<RunnableGraph> {
  const definition = (await loadGraph(thread.graph, workspace.config, workspace.cwd)) as GraphDefinition<RunnableGraph>;
  const graph = definition.build({ config: workspace.config, cwd: workspace.cwd, options: thread.options });
  attachCheckpointer(graph, (await workspace.checkpointer()).saver);
  return graph;
}

export function requireThread(workspace: Workspace, command: string, threadId: string): ThreadRecord {
  const thread = workspace.threads.get(threadId);
  if (!thread) throw new UsageError(`conclave ${command}: there is no thread "${threadId}" in ${workspace.cwd}. "conclave runs" lists the threads.`);
  return thread;
}

export async function withWorkspace(io: CliIO, configFile: string | undefined, body: (workspace: Workspace) => Promise<number>, options: Omit<OpenWorkspaceOptions, "configFile"> = {}): Promise<number> {
  const workspace = await openWorkspace(io, { ...(configFile ? { configFile } : {}), ...options });
  try {
    return await body(workspace);
  } finally {
    await workspace.close();
  }
}

function clip(text: string, length: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
