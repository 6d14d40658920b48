import { createHash } from "node:crypto";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { idempotencyKey } from "../persistence/effects.ts";
import type { EffectLedger } from "../persistence/effects.ts";
import { runContext } from "../runtime/context.ts";

/** Metadata key under which the tools node passes a call's index among its task's calls. */
export const TOOL_CALL_INDEX_KEY = "conclave_tool_call_index";

/** What a side-effecting call's body may do: learn its key, and mark the moment the effect begins. */
export interface EffectHandle {
  idempotencyKey?: string;
  /** Call (and await) right before applying the effect, after any approval: records the attempt in the ledger, which may be a remote store. */
  begin(): Promise<{ idempotencyKey?: string; isRetryAfterCrash?: boolean }>;
  /** The observation recorded when this call completed before (a crash, or a re-run for an approval); then the body must not apply the effect again. */
  completed?: string;
}

/**
 * Runs a tool call through the run's dedupe ledger when the tool has side effects. The body gets
 * the call's idempotency key and, when the ledger has seen the call complete, its recorded
 * observation — the body answers with it instead of running. (Approval comes first, in the body:
 * LangGraph matches resume values to `interrupt()` calls by their order in the task, so a call
 * answered from the ledger must still take its turn at asking.) The observation is recorded once
 * the effect has been applied; a call that throws is forgotten, so it is not taken for a crash.
 * Without a ledger (no run) the body runs as is, with the key when one can be derived.
 */
export async function withEffectLedger(tool: string, sideEffects: boolean, args: unknown, config: (LangGraphRunnableConfig & { toolCall?: { id?: string } }) | undefined, body: (effect: EffectHandle) => Promise<string>): Promise<string> {
  if (!sideEffects) return body({ begin: async () => ({}) });
  const context = runContext(config);
  const key = keyOf(tool, args, config, context.threadId);
  const ledger = context.effects;
  const known = key && ledger ? await ledger.get(key) : undefined;
  let begun = false;
  let applied = false;
  let deduplicated = false;
  let failure: string | undefined;
  try {
    const output = await body({
      ...(key ? { idempotencyKey: key } : {}),
      ...(known?.status === "done" ? { completed: known.output ?? "" } : {}),
      begin: async () => {
        if (known?.status === "done") {
          deduplicated = true;
          return { ...(key ? { idempotencyKey: key } : {}) };
        }
        if (!key) {
          begun = true;
          return {};
        }
        const record = await ledger?.begin(key, tool, context.threadId ?? "");
        begun = true;
        return { idempotencyKey: key, ...(record && record.attempts > 1 ? { isRetryAfterCrash: true } : {}) };
      },
    });
    applied = true;
    if (begun && key) await ledger?.complete(key, output);
    return output;
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    // Only a body that threw is forgotten. When recording the completion failed, the effect was applied:
    // the row stays "started", so a rerun is told it is a retry and passes the same key downstream.
    // A failed forget is swallowed — the tool's own error is the one to report.
    if (begun && key && !applied) await forgetQuietly(ledger, key);
    throw error;
  } finally {
    // A call refused at approval changed nothing: it is not a side effect to report (or audit).
    const callId = config?.toolCall?.id;
    if ((begun || deduplicated) && callId && context.toolReports) context.toolReports.set(callId, { sideEffects: true, ...(key ? { idempotencyKey: key } : {}), ...(deduplicated ? { deduplicated: true } : {}), ...(failure ? { failed: failure } : {}) });
  }
}

async function forgetQuietly(ledger: EffectLedger | undefined, key: string): Promise<void> {
  try {
    await ledger?.forget?.(key);
  } catch {
    // The row stays "started": a rerun is then taken for a retry after a crash, which is the safe side.
  }
}

/** thread + task path + call index; a call made outside the tools node (no index) is told apart by its arguments. */
function keyOf(tool: string, args: unknown, config: LangGraphRunnableConfig | undefined, threadId: string | undefined): string | undefined {
  const thread = threadId ?? config?.configurable?.thread_id;
  const path = config?.metadata?.langgraph_checkpoint_ns;
  const index = config?.metadata?.[TOOL_CALL_INDEX_KEY];
  if (typeof thread !== "string" || typeof path !== "string") return undefined;
  const callIndex = typeof index === "number" ? index : `args:${createHash("sha256").update(JSON.stringify(args ?? null)).digest("hex").slice(0, 16)}`;
  return idempotencyKey({ threadId: thread, path, callIndex, tool });
}
