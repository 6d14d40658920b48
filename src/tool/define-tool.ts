import { tool as langchainTool } from "@langchain/core/tools";
import type { DynamicStructuredTool, StructuredToolInterface } from "@langchain/core/tools";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { ToolExecutionError } from "./errors.ts";
import { runContext } from "../runtime/context.ts";
import { classifyFailure } from "../resilience/classify.ts";
import { askApproval } from "../hitl/ask-approval.ts";
import { withEffectLedger } from "./effect-call.ts";
import type { EffectHandle } from "./effect-call.ts";

/** What a tool's `run` receives besides its validated arguments. */
export interface ToolRunContext {
  /** Aborted when the run is cancelled or the tool's `timeoutMs` passes: pass it to fetch, streams, child processes. */
  signal: AbortSignal;
  /** The model's id for this call, when the call came from a model. */
  toolCallId?: string;
  /**
   * For tools with `sideEffects`: the same for every execution of this call — across retries, a
   * crash and resume, or an approval — and different for every other call. Send it to the system
   * you change (an `Idempotency-Key` header, a unique column) so a repeat is dropped there.
   */
  idempotencyKey?: string;
  /** True when this call was begun before and cut off (a crash): make sure the effect is not applied twice. */
  isRetryAfterCrash?: boolean;
  /** Reports data the tool read — a file (path relative to the workspace) or a document id — to the run's events and audit log. */
  accessed(kind: "file" | "document", resource: string): void;
}

/** A tool definition. `schema` is a zod object; `run` gets the parsed arguments, typed from it. */
export interface ToolDefinition<S extends z.ZodObject> {
  /** Letters, digits, `_` and `-`, at most 64 characters (the OpenAI rule, the strictest in use). */
  name: string;
  /** What the tool does and when to use it: the model chooses tools by this text. */
  description: string;
  schema: S;
  /** Returns the observation: a string, or any JSON value (sent to the model as JSON). */
  run: (args: z.output<S>, context: ToolRunContext) => unknown;
  /** Abort and report the call as failed after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Retries of a call that fails in a way worth retrying (connection resets, timeouts, 429, 5xx
   * from an API the tool calls), with exponential backoff. Default 0: a tool's failure goes back to
   * the model, which may correct its arguments.
   */
  retries?: number;
  /**
   * The tool changes something outside the run (sends mail, writes a record, charges a card).
   * Such a call gets an idempotency key and goes through the run's dedupe ledger: once it has
   * completed it is never run again — not when LangGraph re-executes its node after a crash, nor
   * after an approval — and its calls are written to the audit log.
   */
  sideEffects?: boolean;
  /**
   * Pause the run for a human decision before each call (or those for which the function says
   * so): `conclave approve THREAD [--edit JSON]` runs it (with edited arguments), `conclave
   * reject THREAD --reason …` answers the model with the refusal instead. Needs a checkpointer.
   */
  requiresApproval?: boolean | ((args: z.output<S>) => boolean);
}

/** Any LangChain tool is accepted wherever a Conclave tool is. */
export type AnyTool = StructuredToolInterface;

export { ToolExecutionError } from "./errors.ts";

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Defines a tool and returns a LangChain tool, so it works in any LangChain or LangGraph code too.
 * Arguments are validated by `schema` before `run` is called; a failure, a thrown error or a
 * timeout reaches the model as an error observation, never as a crash of the run.
 *
 * @example
 * const add = defineTool({
 *   name: "add",
 *   description: "Adds two numbers.",
 *   schema: z.object({ a: z.number(), b: z.number() }),
 *   run: ({ a, b }) => String(a + b),
 * });
 */
export function defineTool<S extends z.ZodObject>(definition: ToolDefinition<S>): DynamicStructuredTool {
  checkDefinition(definition);
  const { name, description, schema, run, timeoutMs, retries = 0, sideEffects = false, requiresApproval = false } = definition;
  const execute = async (args: z.output<S>, config: ToolConfig | undefined, handle: EffectHandle) => {
    const effect = await handle.begin();
    const signals = [config?.signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length === 0 ? new AbortController().signal : signals.length === 1 ? signals[0]! : AbortSignal.any(signals);
    const events = runContext(config as LangGraphRunnableConfig).events;
    const accessed = (kind: "file" | "document", resource: string) => events?.emit({ type: "data-access", tool: name, kind, resource });
    const context: ToolRunContext = { signal, ...(config?.toolCall?.id ? { toolCallId: config.toolCall.id } : {}), ...effect, accessed };
    const output = await withToolRetries(retries, signal, () => raceAbort(Promise.resolve().then(() => run(args, context)), signal, name, timeoutMs));
    return typeof output === "string" ? output : JSON.stringify(output ?? null);
  };
  const created = langchainTool(
    async (args: z.output<S>, config?: ToolConfig) =>
      withEffectLedger(name, sideEffects, args, config as LangGraphRunnableConfig, async (effect) => {
        // Approval first, even for a call the ledger has seen complete: resume values are matched to interrupts by order.
        const approved = requiresApproval === false ? { args } : await askApproval(name, schema, args, typeof requiresApproval === "function" ? requiresApproval(args) : true, config?.toolCall?.id);
        if ("refusal" in approved) return approved.refusal;
        if (effect.completed !== undefined) {
          await effect.begin();
          return effect.completed;
        }
        return execute(approved.args, config, effect);
      }),
    { name, description, schema, metadata: { conclave_side_effects: sideEffects, conclave_requires_approval: requiresApproval !== false } },
  ) as unknown as DynamicStructuredTool;
  return created;
}

/** What LangChain passes a tool besides its arguments (the parts Conclave reads). */
type ToolConfig = Pick<LangGraphRunnableConfig, "signal" | "metadata" | "configurable"> & { context?: unknown; toolCall?: { id?: string } };

function checkDefinition(definition: ToolDefinition<z.ZodObject>): void {
  if (!TOOL_NAME.test(definition.name ?? "")) {
    throw new DefinitionError(`Tool name ${JSON.stringify(definition.name)} is invalid. Use 1-64 letters, digits, "_" or "-" (for example "search_docs").`);
  }
  if (typeof definition.description !== "string" || definition.description.trim() === "") {
    throw new DefinitionError(`Tool "${definition.name}" has no description. Say what it does and when to use it: the model picks tools by their description.`);
  }
  if (!(definition.schema instanceof z.ZodObject)) {
    throw new DefinitionError(`Tool "${definition.name}" needs a zod object schema, e.g. z.object({ query: z.string() }).`);
  }
  if (typeof definition.run !== "function") {
    throw new DefinitionError(`Tool "${definition.name}" needs a run(args, context) function.`);
  }
  if (definition.timeoutMs !== undefined && !(definition.timeoutMs > 0)) {
    throw new DefinitionError(`Tool "${definition.name}" has timeoutMs ${definition.timeoutMs}; use a positive number of milliseconds.`);
  }
}

/** Runs the call, and again after a short backoff while its failures are worth retrying. */
async function withToolRetries<T>(retries: number, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= retries || signal.aborted || !classifyFailure(error).retryable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/** Settles with the tool's result, or rejects as soon as the signal aborts — a tool that ignores its signal cannot hang the run. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal, tool: string, timeoutMs: number | undefined): Promise<T> {
  const aborted = () => {
    const timedOut = signal.reason instanceof DOMException && signal.reason.name === "TimeoutError";
    return timedOut
      ? new ToolExecutionError(tool, `Tool "${tool}" timed out after ${timeoutMs} ms. Try a narrower request, or raise the tool's timeoutMs.`, { details: { timeoutMs } })
      : new ToolExecutionError(tool, `Tool "${tool}" was cancelled because the run was aborted.`, { cause: signal.reason });
  };
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
