/**
 * Conclave: a typed, durable, observable multi-agent runtime on LangGraph.js.
 * Everything users import comes from here (and test helpers from `conclave/testing`).
 */

// Errors
export {
  ConclaveError,
  ConfigError,
  DefinitionError,
  GraphNotFoundError,
  MaxStepsExceededError,
  OutputValidationError,
  ProviderError,
  RunAbortedError,
  StepLimitError,
  UsageError,
  isConclaveError,
} from "./errors.ts";
export type { ConclaveErrorOptions, ErrorCategory } from "./errors.ts";

// Tools and agents
export { defineTool, ToolExecutionError } from "./tool/define-tool.ts";
export type { AnyTool, ToolDefinition, ToolRunContext } from "./tool/define-tool.ts";
export { defineAgent } from "./agent/define-agent.ts";
export type { Agent, AgentDefinition, AgentOutput } from "./agent/define-agent.ts";
export { agentStateSchema, createAgentGraph, FINAL_ANSWER_TOOL } from "./agent/agent-graph.ts";
export { runToolCalls, repairInvalidToolCalls } from "./agent/tools-node.ts";

// Running graphs
export { run, stream, resume, stateOf, attachCheckpointer, DEFAULT_STEP_LIMIT } from "./runtime/run.ts";
export type { GraphInput, GraphState, ResumeOptions, RunOptions, RunResult, RunStream, RunnableGraph } from "./runtime/run.ts";
export { approveAnswer } from "./hitl/ask-approval.ts";
export { ApprovalDecisionError, ApprovalDecisionSchema, ApprovalRequestSchema, approvalsOf } from "./hitl/decisions.ts";
export type { ApprovalDecision, ApprovalRequest, PendingApproval } from "./hitl/decisions.ts";
export { createCheckpointer, DEFAULT_CHECKPOINT_FILE } from "./persistence/checkpointer.ts";
export type { Checkpointer, CheckpointerSettings } from "./persistence/checkpointer.ts";
export { MemoryEffectLedger, SqliteEffectLedger, idempotencyKey } from "./persistence/effects.ts";
export type { EffectLedger, EffectRecord, MaybePromise } from "./persistence/effects.ts";
export { PostgresEffectLedger } from "./persistence/postgres-effects.ts";
export { ThreadStore, DEFAULT_RUNS_FILE } from "./persistence/thread-store.ts";
export type { ThreadRecord, ThreadStatus } from "./persistence/thread-store.ts";
export { reportEvent, runContext } from "./runtime/context.ts";
export type { ConclaveContext } from "./runtime/context.ts";
export { setStepBudget, stepBudgetOf } from "./runtime/step-budget.ts";
export { observeNode } from "./runtime/observe-node.ts";
export { AGENT_METADATA_KEY, ROUND_METADATA_KEY, TASK_METADATA_KEY, observeModelCall, whereOf, withRound } from "./models/observe.ts";
export type { ModelCallLabel } from "./models/observe.ts";

// Graph definitions and the registry
export { compileGraph, defineGraph, definitionOf } from "./graph/define-graph.ts";
export type { ConclaveGraph, GraphAnswer, GraphBuildContext, GraphDefinition, GraphOptions } from "./graph/define-graph.ts";
export { loadGraph, readRegistry } from "./graph/registry.ts";
export type { RegistryEntry } from "./graph/registry.ts";
export { answerFromMessages } from "./graph/answer.ts";
export { citedClaims, extractCitations } from "./graph/citations.ts";
export type { Citation, CitedClaim } from "./graph/citations.ts";

// Patterns
export { createDebateGraph, DebateState, DebateRoundSchema, DebateVerdictSchema, SolverAnswerSchema } from "./patterns/debate.ts";
export type { DebateOptions, DebateRound, DebateTermination, SolverAnswer } from "./patterns/debate.ts";
export { majority, normalizeAnswer, summarize } from "./patterns/answers.ts";
export { DEFAULT_ROUTE_RULES, routeModel, taskFeatures } from "./patterns/router.ts";
export type { RouteCandidate, RouteDecision, RouteRule, RouterOptions, TaskFeatures } from "./patterns/router.ts";
export { CascadeAnswerSchema, CascadeState, DEFAULT_CASCADE_THRESHOLD, createCascadeGraph } from "./patterns/cascade.ts";
export type { CascadeAttempt, CascadeFinal, CascadeOptions, CascadeTier } from "./patterns/cascade.ts";
export { MemoryReviewQueue, ReviewItemNotFoundError, SqliteReviewQueue } from "./patterns/review-queue.ts";
export type { ReviewItem, ReviewQueue } from "./patterns/review-queue.ts";
export { DeadLetterQueue } from "./resilience/dead-letters.ts";
export type { DeadLetter } from "./resilience/dead-letters.ts";

// Resilience
export { BreakerRegistry, breakers } from "./resilience/breakers.ts";
export type { BreakerOptions, BreakerState } from "./resilience/breakers.ts";
export { DEFAULT_RESILIENCE, callWithResilience } from "./resilience/model-policy.ts";
export type { CallContext, PolicyHooks, ResilienceOptions } from "./resilience/model-policy.ts";
export { classifyFailure, retryAfterOf } from "./resilience/classify.ts";
export type { FailureClass } from "./resilience/classify.ts";

export { RateLimiter, TokenBucket, QuotaExceededError, RateLimitTimeoutError, parseResetDuration } from "./resilience/rate-limit/index.ts";
export type { LimitSpec, Priority, QuotaSpec, RateLimitSnapshot } from "./resilience/rate-limit/index.ts";
export type { RunRateLimit } from "./runtime/context.ts";
export { CachedEmbeddings, MemoryCacheStore, RedisCacheStore, SqliteCacheStore, canonicalHash, createCacheStore, embeddingKey, modelRequestKey } from "./resilience/cache/index.ts";
export type { CacheStore, ResponseCache } from "./resilience/cache/index.ts";
export { DEFAULT_PRICES, DEFAULT_PRICE_TABLE, costOf, priceOf, priceTableFrom } from "./resilience/pricing.ts";
export type { ModelPrice, PriceTable } from "./resilience/pricing.ts";

export { withFallbacks, worthFallingBack } from "./resilience/fallback.ts";
export type { FallbackChain, FallbackLevel } from "./resilience/fallback.ts";

// Budgets
export { BudgetExceededError, budgetExceeded, isBudgetExceeded } from "./runtime/budget.ts";
export type { RunBudget } from "./runtime/budget.ts";

// Text helpers (shared with the offline model, for tools that score text)
export { numbers as extractNumbers, sentences as splitSentences, terms as contentTerms } from "./models/offline/text.ts";

// Events
export { RunEvents } from "./events/emitter.ts";
export type { RunEventMap, RunEventSink } from "./events/emitter.ts";
export type * from "./events/types.ts";

// Models
export { OfflineChatModel, OFFLINE_MODEL_NAME } from "./models/offline/chat-model.ts";
export { OfflineEmbeddings, OFFLINE_EMBEDDINGS_NAME } from "./models/offline/embeddings.ts";
export { createChatModel, createEmbeddings, describeModel, defaultModel, effectiveProvider, embeddingsProvider } from "./models/resolve.ts";
export type { ResolvedModel } from "./models/resolve.ts";

// Configuration
export { ConfigSchema, defineConfig } from "./config/schema.ts";
export type { ConclaveConfig, ConclaveConfigInput, EmbeddingsConfig, ModelConfig } from "./config/schema.ts";
export { configFromEnvironment, loadConfig } from "./config/load.ts";
export type { ConfigSource, LoadConfigOptions, LoadedConfig } from "./config/load.ts";

export * from "./observability/index.ts";
export * from "./audit/index.ts";
export * from "./secrets/index.ts";
export * from "./replay/index.ts";
export * from "./eval/index.ts";
export * from "./patterns/index-flow.ts";
export * from "./patterns/index-agents.ts";
export * from "./patterns/index-knowledge.ts";
export * from "./patterns/index-quality.ts";
export * from "./patterns/index-governance.ts";
export * from "./patterns/index-dataflow.ts";
export { modelCallLabel } from "./models/call-label.ts";
