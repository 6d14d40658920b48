import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { idempotencyKey } from "../persistence/effects.ts";
import { runContext } from "../runtime/context.ts";

/** Metadata key under which the tools node passes a call's index among its task's calls. */
export const TOOL_CALL_INDEX_KEY = "conclave_tool_call_index";

/** What a side-effecting call's body may do: learn its key, and mark the moment the effect begins. */
export interface EffectHandle {
  idempotencyKey?: string;
  /** Call right before applying the effect (after any approval): records the attempt in the ledger. */
  begin(): { idempotencyKey?: string; isRetryAfterCrash?: boolean };
}

/**
 * Runs a tool call through the run's dedupe ledger when the tool has side effects: a call found
 * done returns its recorded observation without running; otherwise the body runs, and its
 * observation is recorded once the effect has been applied. Without a ledger (no run, or a run
 * without one) the body runs as is, still with its idempotency key.
 */
export async function withEffectLedger(tool: string, sideEffects: boolean, config: (LangGraphRunnableConfig & { toolCall?: { id?: string } }) | undefined, body: (effect: EffectHandle) => Promise<string>): Promise<string> {
  if (!sideEffects) return body({ begin: () => ({}) });
  const context = runContext(config);
  const key = keyOf(tool, config, context.threadId);
  const report = (fields: { deduplicated?: boolean }) => {
    const callId = config?.toolCall?.id;
    if (callId && context.toolReports) context.toolReports.set(callId, { sideEffects: true, ...(key ? { idempotencyKey: key } : {}), ...fields });
  };
  const ledger = context.effects;
  const known = key && ledger ? ledger.get(key) : undefined;
  if (known?.status === "done") {
    report({ deduplicated: true });
    return known.output ?? "";
  }
  let begun = false;
  const output = await body({
    ...(key ? { idempotencyKey: key } : {}),
    begin: () => {
      begun = true;
      if (!key) return {};
      const record = ledger?.begin(key, tool, context.threadId ?? "");
      return { idempotencyKey: key, ...(record && record.attempts > 1 ? { isRetryAfterCrash: true } : {}) };
    },
  });
  if (begun && key) ledger?.complete(key, output);
  // A call refused at approval changed nothing: it is not a side effect to audit.
  if (begun) report({});
  return output;
}

function keyOf(tool: string, config: LangGraphRunnableConfig | undefined, threadId: string | undefined): string | undefined {
  const thread = threadId ?? config?.configurable?.thread_id;
  const path = config?.metadata?.langgraph_checkpoint_ns;
  const index = config?.metadata?.[TOOL_CALL_INDEX_KEY];
  if (typeof thread !== "string" || typeof path !== "string") return undefined;
  return idempotencyKey({ threadId: thread, path, callIndex: typeof index === "number" ? index : 0, tool });
}
