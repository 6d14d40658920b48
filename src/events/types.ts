import type { ConclaveError } from "../errors.ts";

/** Token counts of one model call or of a whole run. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** What every event carries: which run, and when. */
interface EventBase {
  runId: string;
  threadId: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Which model answered, as shown in banners and results. `offline` is true for the embedded model. */
export interface ModelInfo {
  provider: string;
  name: string;
  offline: boolean;
}

export interface RunStartEvent extends EventBase {
  type: "run-start";
  graph: string;
  model: ModelInfo;
  input: unknown;
  /** Set when the run continues a thread from its last checkpoint (after a crash, an approval, a fork). */
  resumed?: boolean;
}
export interface RunEndEvent extends EventBase {
  type: "run-end";
  /** "interrupted": paused for approval; resume it with `run(graph, approve(...))` or `conclave approve`. */
  status: "done" | "interrupted" | "failed" | "aborted";
  durationMs: number;
  usage: RunUsage;
  error?: ReturnType<ConclaveError["toJSON"]>;
}
export interface NodeStartEvent extends EventBase {
  type: "node-start";
  node: string;
  /** LangGraph superstep number. */
  step: number;
  /** Subgraph namespace, empty at the top level. */
  namespace: string;
  /** LangGraph's checkpoint namespace of this node's task ("research:<task>|model:<task>"): unique per execution, a prefix of its children's. */
  path?: string;
}
export interface NodeEndEvent extends EventBase {
  type: "node-end";
  node: string;
  step: number;
  namespace: string;
  path?: string;
  durationMs: number;
  error?: string;
}
export interface LlmCallStartEvent extends EventBase {
  type: "llm-call-start";
  callId: string;
  model: string;
  node?: string;
  agent?: string;
  /** The round and task (sub-question, claim) the call serves, when the graph says. */
  round?: number;
  task?: string;
  /** The checkpoint namespace of the node task the call runs in (see `NodeStartEvent.path`). */
  path?: string;
  messageCount: number;
}
export interface LlmCallEndEvent extends EventBase {
  type: "llm-call-end";
  callId: string;
  model: string;
  node?: string;
  agent?: string;
  round?: number;
  task?: string;
  path?: string;
  latencyMs: number;
  usage: TokenUsage;
  /** What the call cost in USD, from the run's price table (0 when answered from the cache). */
  costUsd: number;
  /** Answered from the response cache, without calling the model. */
  cached?: boolean;
  /** What a cached answer would have cost. */
  savedCostUsd?: number;
  /** Which fallback level answered, when not the primary model. */
  answeredBy?: "backup" | "cache" | "template";
  toolCalls: Array<{ name: string; args: unknown }>;
  /** The answer text (truncated to 500 characters). */
  text: string;
  error?: string;
}
export interface ToolCallStartEvent extends EventBase {
  type: "tool-call-start";
  callId: string;
  tool: string;
  args: unknown;
  node?: string;
  agent?: string;
  round?: number;
  task?: string;
  path?: string;
}
export interface ToolCallEndEvent extends EventBase {
  type: "tool-call-end";
  callId: string;
  tool: string;
  latencyMs: number;
  /** Size of the observation in characters. */
  outputChars: number;
  /** First 500 characters of the observation. */
  output: string;
  /** Set when the tool failed; the model still sees the failure as an observation. */
  error?: string;
  node?: string;
  agent?: string;
  round?: number;
  task?: string;
  path?: string;
  /** The tool changes something outside the run (`defineTool({ sideEffects: true })`). */
  sideEffects?: boolean;
  /** The idempotency key the call ran under (thread, checkpoint namespace, call index), for side-effecting tools. */
  idempotencyKey?: string;
  /** The call had already completed before a crash or retry: its recorded result was returned and the tool was not run again. */
  deduplicated?: boolean;
  /** Answered from a replayed cassette, without running the tool. */
  replayed?: boolean;
}
export interface ErrorEvent extends EventBase {
  type: "error";
  error: ReturnType<ConclaveError["toJSON"]>;
}
/** A token (or chunk) of model output, only emitted by `stream()`. */
export interface TokenEvent extends EventBase {
  type: "token";
  node?: string;
  text: string;
}

/** A routing decision a coordinating node made, and why. */
export interface DecisionEvent extends EventBase {
  type: "decision";
  /** Who decided (an agent or node name). */
  by: string;
  /** Where the run goes next (a node name, or "finish"). */
  next: string;
  reason: string;
  round?: number;
}

/** The end of a critique or debate round, with its convergence measures. */
export interface RoundEndEvent extends EventBase {
  type: "round-end";
  round: number;
  /** Which loop: e.g. "critique" or "debate". */
  loop: string;
  /** Measures of convergence, e.g. claimsSupported, claimsTotal, itemsResolved, draftChange, agreement. */
  measures: Record<string, number>;
  /** A one-line summary for progress output. */
  summary: string;
}

/** A failed model call is about to be tried again. */
export interface RetryEvent extends EventBase {
  type: "retry";
  model: string;
  /** The attempt that failed (1 = the first try). */
  attempt: number;
  delayMs: number;
  reason: string;
  status?: number;
  agent?: string;
}

/** A model call failed for good: not retryable, out of retries, or its circuit is open. */
export interface GiveUpEvent extends EventBase {
  type: "give-up";
  model: string;
  attempts: number;
  reason: string;
  status?: number;
  agent?: string;
}

/** A model failed for good and the fallback chain moved on to the next level. */
export interface FallbackEvent extends EventBase {
  type: "fallback";
  /** The model that failed. */
  from: string;
  level: "backup" | "cache" | "template" | "primary";
  /** The backup model tried, for level "backup". */
  model?: string;
  reason: string;
  agent?: string;
}

/** A provider+model circuit breaker changed state. */
export interface BreakerEvent extends EventBase {
  type: "breaker";
  key: string;
  state: "closed" | "open" | "half-open" | "isolated";
  previous: "closed" | "open" | "half-open" | "isolated";
}

/** Something the user should know that did not stop the run. */
export interface WarningEvent extends EventBase {
  type: "warning";
  message: string;
}

/** The run paused for a human decision (`interrupt()`): a tool marked `requiresApproval`, or the final answer. */
export interface ApprovalRequestEvent extends EventBase {
  type: "approval-request";
  /** LangGraph's interrupt id: approve or reject this one by it when several are pending. */
  interruptId: string;
  kind: "tool" | "answer";
  tool?: string;
  args?: unknown;
  /** What the approver is shown. */
  summary: string;
}

/** A human decided on a pending approval. */
export interface ApprovalDecisionEvent extends EventBase {
  type: "approval-decision";
  interruptId: string;
  kind: "tool" | "answer";
  decision: "approved" | "edited" | "rejected";
  /** Who decided (`--as`, or the OS user). */
  actor: string;
  tool?: string;
  reason?: string;
  /** The replacement arguments or answer, for "edited". */
  edit?: unknown;
}

/** A tool read data: a file, or a document of the corpus. */
export interface DataAccessEvent extends EventBase {
  type: "data-access";
  tool: string;
  kind: "file" | "document";
  /** A path relative to the workspace, or a document id. */
  resource: string;
}

/** Usage of a whole run, and per agent. */
export interface RunUsage extends TokenUsage {
  modelCalls: number;
  toolCalls: number;
  /** What the run's model calls cost in USD. */
  costUsd: number;
  /** Model requests retried; HTTP calls = modelCalls - cachedCalls + retries. */
  retries: number;
  /** Model calls answered from the response cache, and what they would have cost. */
  cachedCalls: number;
  savedCostUsd: number;
  /** Model calls, tokens and cost of each named agent. */
  byAgent: Record<string, TokenUsage & { modelCalls: number; costUsd: number }>;
  /** The same per round, for graphs that work in rounds. */
  byRound: Record<string, TokenUsage & { modelCalls: number; costUsd: number }>;
}

/** Every event a run emits, discriminated by `type`. */
export type ConclaveEvent =
  | RunStartEvent
  | RunEndEvent
  | NodeStartEvent
  | NodeEndEvent
  | LlmCallStartEvent
  | LlmCallEndEvent
  | ToolCallStartEvent
  | ToolCallEndEvent
  | ErrorEvent
  | TokenEvent
  | DecisionEvent
  | RoundEndEvent
  | RetryEvent
  | GiveUpEvent
  | BreakerEvent
  | FallbackEvent
  | WarningEvent
  | ApprovalRequestEvent
  | ApprovalDecisionEvent
  | DataAccessEvent;

export type ConclaveEventType = ConclaveEvent["type"];

/** The event of a given type, e.g. `EventOf<"tool-call-end">`. */
export type EventOf<T extends ConclaveEventType> = Extract<ConclaveEvent, { type: T }>;

/** Distributes `Omit` over the union so each member keeps its own fields. */
type OmitBase<E> = E extends ConclaveEvent ? Omit<E, "runId" | "threadId" | "at"> : never;

/** An event before the run fills in its run id, thread id and time. */
export type EventPayload = OmitBase<ConclaveEvent>;
