import { END, ReducedValue, Send, START, StateGraph, StateSchema, interrupt, isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { ApprovalRequestSchema, parseDecision } from "../hitl/decisions.ts";
import type { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget } from "../runtime/step-budget.ts";

/** The stages an item passes, in order; a rejection names the one that refused it. */
export type ValidationStage = "schema" | "content" | "rules" | "approval";

/** What a check is told besides the item. */
export interface ValidationCheckContext {
  /** The item's position in the batch (0-based). */
  index: number;
  /** The node's config: pass it to `observeModelCall` or an agent, so a model-based check joins the run. */
  config: LangGraphRunnableConfig;
}

/** One content check or business rule. It returns why the item fails (one reason or several), or nothing when it passes. */
export interface ValidationCheck<T> {
  name: string;
  check: (value: T, context: ValidationCheckContext) => string | readonly string[] | undefined | null | Promise<string | readonly string[] | undefined | null>;
}

export interface ValidationChainOptions<S extends z.ZodType> {
  /** Names the graph, its events, the approvals and the dead letters (default "validation-chain"). */
  name?: string;
  /** Stage 1: the item must parse; later stages see the parsed value. */
  schema: S;
  /** Stage 2: checks of what the item says (personal data, language, a model's judgement). All run; every failure is a reason. */
  content?: ReadonlyArray<ValidationCheck<z.output<S>>>;
  /** Stage 3: business rules (limits, allowed vendors, dates). All run; every failure is a reason. */
  rules?: ReadonlyArray<ValidationCheck<z.output<S>>>;
  /** Stage 4: a person approves, edits or rejects — every item, or those the predicate picks. */
  approval?: "always" | ((value: z.output<S>) => boolean);
  /** What the approver reads (default: the item as JSON, clipped). */
  summarize?: (value: z.output<S>, index: number) => string;
  /** Where rejected items go, with their stage and reasons (kind "batch-item"). A function opens it on the first rejection. */
  deadLetters?: DeadLetterQueue | (() => DeadLetterQueue);
}

const IssueSchema = z.object({ path: z.string(), message: z.string(), code: z.string() });

/** How one item came out. Accepted items carry their parsed (or approver-edited) value. */
export const ValidationResultSchema = z.object({
  index: z.number().int(),
  status: z.enum(["accepted", "rejected"]),
  input: z.unknown(),
  value: z.unknown().optional(),
  stage: z.enum(["schema", "content", "rules", "approval"]).optional(),
  reasons: z.array(z.string()),
  /** zod's issues, for an item rejected at "schema" (or an approver's edit that fails it). */
  issues: z.array(IssueSchema).optional(),
  /** Who approved or edited it, when the approval stage ran. */
  approvedBy: z.string().optional(),
  deadLetterId: z.string().optional(),
});
export type ValidationResult = z.infer<typeof ValidationResultSchema>;

/** The state of a validation chain: the items in, and one result per item, in item order. */
export const ValidationChainState = new StateSchema({
  items: z.array(z.unknown()),
  results: new ReducedValue(z.array(ValidationResultSchema).default(() => []), { inputSchema: z.array(ValidationResultSchema), reducer: (current: ValidationResult[], next: ValidationResult[]) => [...current, ...next].sort((a, b) => a.index - b.index) }),
});
type ChainState = typeof ValidationChainState.State;

const RejectionSchema = z.object({ stage: z.enum(["schema", "content", "rules", "approval"]), reasons: z.array(z.string()), issues: z.array(IssueSchema).optional(), code: z.string() });
const ItemState = new StateSchema({
  index: z.number().int(),
  input: z.unknown(),
  value: z.unknown().optional(),
  approvedBy: z.string().optional(),
  rejection: RejectionSchema.optional(),
  result: ValidationResultSchema.optional(),
});
type Item = typeof ItemState.State;

const fn = (what: string) => z.custom<(...args: never[]) => unknown>((value) => typeof value === "function", `must be a function ${what}`);
const CheckSchema = z.object({ name: z.string().min(1), check: fn("(value, { index, config }) => reason | reasons | undefined") });
const OptionsSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 letters, digits, "_" or "-"').optional(),
  schema: z.custom<z.ZodType>((value) => value instanceof z.ZodType, "must be a zod schema"),
  content: z.array(CheckSchema).optional(),
  rules: z.array(CheckSchema).optional(),
  approval: z.union([z.literal("always"), fn("(value) => boolean")]).optional(),
  summarize: fn("(value, index) => string").optional(),
  deadLetters: z.custom<object>((value) => typeof value === "function" || (typeof value === "object" && value !== null && typeof (value as { add?: unknown }).add === "function"), "must be a DeadLetterQueue, or a function returning one").optional(),
});

/**
 * A validation chain: every item of `{ items }` runs, in parallel (`Send`), through a per-item
 * subgraph of stages — schema (zod) → content checks → business rules → approval (optional) —
 * where any stage can reject with reasons and the item skips the rest (conditional edges). A
 * rejected item is kept in the dead-letter queue (kind "batch-item", with its stage and reasons
 * in `options`), and every outcome is a `decision` event. Approval is a Conclave approval
 * (`interrupt()` with an `ApprovalRequestSchema` request; `resume(graph, { decisions })`, one per
 * waiting item): approve accepts, edit replaces the item (checked against the schema again), reject
 * rejects it at "approval". A check that throws rejects its item rather than the batch; a spent
 * budget still stops the run.
 *
 * @example
 * const chain = createValidationChain({
 *   schema: z.object({ id: z.string(), amount: z.number().positive() }),
 *   rules: [{ name: "limit", check: (invoice) => (invoice.amount > 10_000 ? `amount ${invoice.amount} is over 10000` : undefined) }],
 *   deadLetters: new DeadLetterQueue(),
 * });
 * const { state } = await run(chain, { items: invoices });
 * state.results.filter((result) => result.status === "rejected"); // [{ index, stage: "rules", reasons: ["limit: amount 12000 is over 10000"], … }]
 */
export function createValidationChain<S extends z.ZodType>(options: ValidationChainOptions<S>) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid validation chain: ${z.prettifyError(parsed.error)}. Pass { schema: z.object(…), content?: [{ name, check }], rules?: [{ name, check }], approval?, deadLetters? }.`);
  const { name = "validation-chain", schema, content = [], rules = [], approval, summarize = defaultSummary, deadLetters } = options;
  type Value = z.output<S>;
  let queue: DeadLetterQueue | undefined;
  const dlq = () => (queue ??= typeof deadLetters === "function" ? deadLetters() : deadLetters);

  const parse = async (input: unknown) => {
    const checked = await schema.safeParseAsync(input);
    if (checked.success) return { value: checked.data as Value };
    const issues = checked.error.issues.map((issue) => ({ path: issue.path.map(String).join(".") || "(item)", message: issue.message, code: issue.code }));
    return { issues, reasons: issues.map((issue) => `${issue.path}: ${issue.message}`) };
  };

  const schemaStage = async (state: Item) => {
    const result = await parse(state.input);
    return "value" in result ? { value: result.value } : { rejection: { stage: "schema" as const, reasons: result.reasons, issues: result.issues, code: "VALIDATION_REJECTED" } };
  };

  const checkStage = (stage: "content" | "rules", checks: ReadonlyArray<ValidationCheck<Value>>) => async (state: Item, config: LangGraphRunnableConfig) => {
    let failed = false;
    const reasons = (
      await Promise.all(
        checks.map(async (check) => {
          try {
            const said = await check.check(state.value as Value, { index: state.index, config });
            return (typeof said === "string" ? [said] : (said ?? [])).map((reason) => `${check.name}: ${reason}`);
          } catch (error) {
            // One bad item (or one failing lookup) must not sink the batch; budget stops and interrupts still end the run.
            if (isGraphBubbleUp(error) || isBudgetExceeded(error)) throw error;
            failed = true;
            return [`${check.name} could not check the item: ${error instanceof Error ? error.message : String(error)}`];
          }
        }),
      )
    ).flat();
    return reasons.length ? { rejection: { stage, reasons, code: failed ? "VALIDATION_CHECK_FAILED" : "VALIDATION_REJECTED" } } : {};
  };

  const approvalStage = async (state: Item) => {
    const value = state.value as Value;
    const request = ApprovalRequestSchema.parse({ type: "conclave.approval", kind: "tool", tool: name, args: value, summary: summarize(value, state.index) });
    const decision = parseDecision(interrupt(request));
    if (decision.decision === "approve") return { approvedBy: decision.actor };
    if (decision.decision === "reject") return { rejection: { stage: "approval" as const, reasons: [`rejected by ${decision.actor}: ${decision.reason}`], code: "VALIDATION_REJECTED" } };
    // An edit is a new item: it must still parse (the checks and rules ran on what the approver saw).
    const edited = await parse(decision.edit);
    if ("value" in edited) return { value: edited.value, approvedBy: decision.actor };
    return { rejection: { stage: "approval" as const, reasons: [`the edit by ${decision.actor} does not match the schema: ${edited.reasons.join("; ")}`], issues: edited.issues, code: "VALIDATION_REJECTED" } };
  };

  const reject = (state: Item, config: LangGraphRunnableConfig) => {
    const { stage, reasons, issues, code } = state.rejection!;
    const context = runContext(config);
    const letter = dlq()?.add({ kind: "batch-item", graph: name, input: state.input, options: { index: state.index, stage, reasons, ...(issues ? { issues } : {}) }, error: { code, message: `Rejected at ${stage}: ${reasons.join("; ")}`, category: "user" }, attempts: 1, traceId: context.events?.runId ?? context.threadId ?? "" });
    reportEvent(config, { type: "decision", by: name, next: "reject", reason: `item ${state.index + 1} rejected at ${stage}: ${reasons.join("; ").slice(0, 300)}${letter ? ` (dead letter ${letter.id})` : ""}` });
    return { result: { index: state.index, status: "rejected" as const, input: state.input, stage, reasons, ...(issues ? { issues } : {}), ...(letter ? { deadLetterId: letter.id } : {}) } };
  };

  const accept = (state: Item, config: LangGraphRunnableConfig) => {
    reportEvent(config, { type: "decision", by: name, next: "accept", reason: `item ${state.index + 1} passed every stage${state.approvedBy ? `, approved by ${state.approvedBy}` : ""}` });
    return { result: { index: state.index, status: "accepted" as const, input: state.input, value: state.value, reasons: [], ...(state.approvedBy ? { approvedBy: state.approvedBy } : {}) } };
  };

  const needsApproval = (state: Item) => approval === "always" || (typeof approval === "function" && approval(state.value as Value));
  const after = (next: string) => (state: Item) => (state.rejection ? "reject" : next);
  const itemGraph = new StateGraph(ItemState)
    .addNode("schema", observeNode("schema", schemaStage))
    .addNode("content", observeNode("content", checkStage("content", content)))
    .addNode("rules", observeNode("rules", checkStage("rules", rules)))
    .addNode("approval", observeNode("approval", approvalStage))
    .addNode("reject", observeNode("reject", reject))
    .addNode("accept", observeNode("accept", accept))
    .addEdge(START, "schema")
    .addConditionalEdges("schema", after("content"), ["content", "reject"])
    .addConditionalEdges("content", after("rules"), ["rules", "reject"])
    .addConditionalEdges("rules", (state: Item) => (state.rejection ? "reject" : needsApproval(state) ? "approval" : "accept"), ["approval", "accept", "reject"])
    .addConditionalEdges("approval", after("accept"), ["accept", "reject"])
    .addEdge("reject", END)
    .addEdge("accept", END)
    .compile({ name: `${name}-item` });

  const validate = async (task: { index: number; input: unknown }, config: LangGraphRunnableConfig) => {
    const final = await itemGraph.invoke({ index: task.index, input: task.input }, config);
    return { results: [final.result!] };
  };

  const fanOut = (state: ChainState) => (state.items.length ? state.items.map((input, index) => new Send("validate", { index, input })) : END);

  const graph = new StateGraph(ValidationChainState)
    // Send delivers one item (index and input) to "validate", not the chain's state.
    .addNode("validate", observeNode("validate", validate) as unknown as (state: ChainState, config: LangGraphRunnableConfig) => Promise<{ results: ValidationResult[] }>)
    .addConditionalEdges(START, fanOut, ["validate", END])
    .addEdge("validate", END)
    .compile({ name });
  // The item subgraph takes at most six steps (schema, content, rules, approval, accept or reject); the chain two.
  return setStepBudget(graph, 8);
}

function defaultSummary(value: unknown, index: number): string {
  return `item ${index + 1}: ${JSON.stringify(value)?.slice(0, 300) ?? String(value)}`;
}
