import { END, ReducedValue, Send, START, StateGraph, StateSchema, isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";
import { errorRecord, parsePatternOptions } from "./batch.ts";
import type { DeadLetterSink } from "./batch.ts";

export type EtlStage = "extract" | "transform" | "validate" | "load";

/** What each stage is told: the node's config (pass it to agents and `observeModelCall`) and the source. */
export interface EtlContext {
  config: LangGraphRunnableConfig;
  source?: string;
}

/** A raw record `extract` could read but not use (a malformed row): reported at the extract stage. */
export class RejectedRecord {
  constructor(
    readonly record: unknown,
    readonly reason: string,
  ) {}
}

/** Yield `rejectRecord(row, "3 columns, expected 5")` from `extract` for a row that cannot become a record. */
export function rejectRecord(record: unknown, reason: string): RejectedRecord {
  return new RejectedRecord(record, reason);
}

export interface EtlOptions<I, O> {
  /** Names the graph, its events and its dead letters (default "etl"). */
  name?: string;
  /** Reads the records from the input's `source` (a path, a query). Yield `rejectRecord(…)` for rows it cannot parse. */
  extract: (source: string | undefined, context: EtlContext) => Iterable<I | RejectedRecord> | AsyncIterable<I | RejectedRecord> | Promise<Iterable<I | RejectedRecord>>;
  /** One record at a time, all in parallel (LangGraph `Send`); may call a model. A throw rejects the record, except a spent budget or an interrupt, which stop the run. */
  transform: (record: I, context: EtlContext & { index: number }) => O | Promise<O>;
  /** A zod schema, or a function returning the reason a record is invalid (nothing when it is valid). */
  validate?: z.ZodType<O> | ((record: O, context: EtlContext & { index: number }) => string | undefined | void | Promise<string | undefined | void>);
  /** Loads the valid records in one call; returns the ones the target refused (a throw refuses them all). */
  load: (records: Array<{ index: number; record: O }>, context: EtlContext) => void | EtlLoadResult | Promise<void | EtlLoadResult>;
  /** Bad records are also kept here, as kind "batch-item" with their raw input and stage. */
  deadLetters?: DeadLetterSink;
}

export interface EtlLoadResult {
  rejected?: Array<{ index: number; reason: string }>;
}

/** `extract` failed as a whole (the source is missing or unreadable): nothing was processed. */
export class EtlExtractError extends ConclaveError {
  override name = "EtlExtractError";
  constructor(pipeline: string, source: string | undefined, cause: unknown) {
    super("ETL_EXTRACT_FAILED", "user", `ETL "${pipeline}" could not extract from ${source === undefined ? "its source" : `"${source}"`}: ${cause instanceof Error ? cause.message : String(cause)}. Check the source exists and is readable, then run again; no record was processed.`, { cause, details: { pipeline, source } });
  }
}

const FailureSchema = z.object({
  /** The record's position in the source, from 0 (messages count from 1). */
  index: z.number().int(),
  stage: z.enum(["extract", "transform", "validate", "load"]),
  reason: z.string(),
  code: z.string(),
  /** The raw record as extracted. */
  record: z.unknown(),
  deadLetterId: z.string().optional(),
});
const CountSchema = z.object({ in: z.number().int(), out: z.number().int(), failed: z.number().int() });
export type EtlFailure = z.infer<typeof FailureSchema>;
export type EtlStageCount = z.infer<typeof CountSchema>;

const append = <T>(schema: z.ZodType<T>) => new ReducedValue(z.array(schema).default(() => []), { inputSchema: z.array(schema), reducer: (current: T[], next: T[]) => [...current, ...next] });
const Indexed = z.object({ index: z.number().int(), record: z.unknown() });

/** The state of an ETL run: `source` in; `counts` per stage, `failures` and `loaded` out. Records are checkpointed: keep them JSON-serialisable. */
export const EtlState = new StateSchema({
  source: z.string().optional(),
  extracted: z.array(Indexed).default(() => []),
  transformed: append(Indexed),
  valid: z.array(Indexed).default(() => []),
  /** Indexes of the records the target accepted. */
  loaded: z.array(z.number().int()).default(() => []),
  failures: append(FailureSchema),
  counts: new ReducedValue(z.record(z.string(), CountSchema).default(() => ({})), { inputSchema: z.record(z.string(), CountSchema), reducer: (current: Record<string, EtlStageCount>, next: Record<string, EtlStageCount>) => ({ ...current, ...next }) }),
});
type State = typeof EtlState.State;
type Indexed = z.infer<typeof Indexed>;

const isFunction = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", `must be a function ${what}`);
const OptionsSchema = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'use 1-64 letters, digits, "_" or "-"').default("etl"),
  extract: isFunction("(source, context) => records"),
  transform: isFunction("(record, context) => record"),
  validate: z.union([isFunction("(record, context) => reason | undefined"), z.custom<z.ZodType>((value) => value instanceof z.ZodType, "must be a zod schema or a function")]).optional(),
  load: isFunction("(records, context) => { rejected? }"),
  deadLetters: z.custom<DeadLetterSink>((value) => typeof (value as DeadLetterSink | undefined)?.add === "function", "must be a DeadLetterQueue").optional(),
});

/**
 * An ETL pipeline as a LangGraph graph: extract → transform (one `Send` task per record, so records
 * run in parallel and each model call is traced to its record) → validate → load, every node
 * observed. A bad record never stops the others: it is reported with its stage and reason (a
 * `warning` event, `state.failures`, and the dead-letter queue), and `counts` says per stage how
 * many records went in, came out and failed.
 *
 * @example
 * const graph = createEtlGraph({
 *   extract: (path) => readCsv(path!),
 *   transform: (row) => ({ ...row, email: row.email.toLowerCase() }),
 *   validate: z.object({ email: z.email() }),
 *   load: (rows) => warehouse.insert(rows.map((row) => row.record)),
 *   deadLetters: new DeadLetterQueue(),
 * });
 * const { state } = await run(graph, { source: "customers.csv" });
 */
export function createEtlGraph<I, O>(options: EtlOptions<I, O>) {
  const { name } = parsePatternOptions(OptionsSchema, options, "ETL pipeline", "{ extract(source), transform(record), validate?, load(records), deadLetters? }");
  const failed = (state: Pick<State, "source">, config: LangGraphRunnableConfig, stage: EtlStage, index: number, record: unknown, error: unknown, code: string): EtlFailure => {
    const { code: errorCode, message, category } = typeof error === "string" ? { code, message: error, category: undefined } : errorRecord(error, code);
    reportEvent(config, { type: "warning", message: `${name}: record ${index + 1} failed at ${stage}: ${message}` });
    let deadLetterId: string | undefined;
    try {
      deadLetterId = options.deadLetters?.add({ kind: "batch-item", graph: name, input: record, options: { stage, index, ...(state.source === undefined ? {} : { source: state.source }) }, error: { code: errorCode, message, ...(category ? { category } : {}) }, attempts: 1, traceId: runContext(config).events?.runId ?? "" }).id;
    } catch (caught) {
      reportEvent(config, { type: "warning", message: `${name}: could not keep record ${index + 1} in the dead-letter queue: ${(caught as Error).message}` });
    }
    return { index, stage, reason: message, code: errorCode, record, ...(deadLetterId ? { deadLetterId } : {}) };
  };
  const context = (state: Pick<State, "source">, config: LangGraphRunnableConfig): EtlContext => ({ config, ...(state.source === undefined ? {} : { source: state.source }) });

  const extract = async (state: State, config: LangGraphRunnableConfig) => {
    const extracted: Indexed[] = [];
    const failures: EtlFailure[] = [];
    let index = 0;
    try {
      for await (const item of await options.extract(state.source, context(state, config))) {
        if (item instanceof RejectedRecord) failures.push(failed(state, config, "extract", index++, item.record, item.reason, "ETL_EXTRACT_REJECTED"));
        else extracted.push({ index: index++, record: item });
      }
    } catch (error) {
      if (isRunStop(error)) throw error;
      throw new EtlExtractError(name, state.source, error);
    }
    return { extracted, failures, counts: { extract: { in: index, out: extracted.length, failed: failures.length } } };
  };

  // Send hands each task one record (with the source, for its context), not the whole state.
  const transform = async (task: Indexed & Pick<State, "source">, config: LangGraphRunnableConfig) => {
    try {
      const record = await options.transform(task.record as I, { ...context(task, config), index: task.index });
      return { transformed: [{ index: task.index, record }] };
    } catch (error) {
      if (isRunStop(error)) throw error;
      return { failures: [failed(task, config, "transform", task.index, task.record, error, "ETL_TRANSFORM_FAILED")] };
    }
  };

  const validate = async (state: State, config: LangGraphRunnableConfig) => {
    const transformed = [...state.transformed].sort((a, b) => a.index - b.index);
    const raw = new Map(state.extracted.map((entry) => [entry.index, entry.record]));
    const valid: Indexed[] = [];
    const failures: EtlFailure[] = [];
    for (const entry of transformed) {
      const reason = await problemOf(options.validate, entry.record as O, { ...context(state, config), index: entry.index });
      if (reason) failures.push(failed(state, config, "validate", entry.index, raw.get(entry.index), reason, "ETL_VALIDATION_FAILED"));
      else valid.push(entry);
    }
    const counts = { transform: { in: state.extracted.length, out: transformed.length, failed: state.extracted.length - transformed.length }, validate: { in: transformed.length, out: valid.length, failed: failures.length } };
    return { valid, failures, counts };
  };

  const load = async (state: State, config: LangGraphRunnableConfig) => {
    const raw = new Map(state.extracted.map((entry) => [entry.index, entry.record]));
    let rejected: Array<{ index: number; reason: string | unknown }> = [];
    if (state.valid.length) {
      try {
        rejected = (await options.load(state.valid as Array<{ index: number; record: O }>, context(state, config)))?.rejected ?? [];
      } catch (error) {
        if (isRunStop(error)) throw error;
        // The target refused the whole load: every record is reported, none silently lost.
        rejected = state.valid.map((entry) => ({ index: entry.index, reason: error }));
      }
    }
    const offered = new Set(state.valid.map((entry) => entry.index));
    const refused = new Set(rejected.map((entry) => entry.index));
    const failures = rejected.filter((entry) => offered.has(entry.index)).map((entry) => failed(state, config, "load", entry.index, raw.get(entry.index), entry.reason, "ETL_LOAD_REJECTED"));
    const loaded = state.valid.map((entry) => entry.index).filter((index) => !refused.has(index));
    const all = [...state.failures, ...failures];
    const byStage = (["extract", "transform", "validate", "load"] as const).map((stage) => [stage, all.filter((failure) => failure.stage === stage).length] as const).filter(([, count]) => count > 0);
    const total = state.counts.extract?.in ?? 0;
    reportEvent(config, { type: "decision", by: name, next: "finish", reason: `${loaded.length} of ${total} records loaded; ${all.length} failed${byStage.length ? ` (${byStage.map(([stage, count]) => `${stage} ${count}`).join(", ")})` : ""}` });
    return { loaded, failures, counts: { load: { in: state.valid.length, out: loaded.length, failed: failures.length } } };
  };

  const fanOut = (state: State) => (state.extracted.length ? state.extracted.map((entry) => new Send("transform", { ...entry, ...(state.source === undefined ? {} : { source: state.source }) })) : "validate");

  const graph = new StateGraph(EtlState)
    .addNode("extract", observeNode("extract", extract))
    .addNode("transform", observeNode("transform", transform) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<Partial<State>>)
    .addNode("validate", observeNode("validate", validate))
    .addNode("load", observeNode("load", load))
    .addEdge(START, "extract")
    .addConditionalEdges("extract", fanOut, ["transform", "validate"])
    .addEdge("transform", "validate")
    .addEdge("validate", "load")
    .addEdge("load", END)
    .compile({ name });
  return setStepBudget(graph, 8);
}

/** A spent budget or an interrupt belongs to the run, not to a record: rethrown, never dead-lettered. */
function isRunStop(error: unknown): boolean {
  return isGraphBubbleUp(error) || isBudgetExceeded(error);
}

/** Why a record is invalid, or undefined when it is valid. */
async function problemOf<O>(validate: EtlOptions<unknown, O>["validate"], record: O, context: EtlContext & { index: number }): Promise<string | undefined> {
  if (!validate) return undefined;
  if (validate instanceof z.ZodType) {
    const parsed = validate.safeParse(record);
    return parsed.success ? undefined : parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join(".")}: ` : ""}${issue.message}`).join("; ");
  }
  return (await validate(record, context)) || undefined;
}
