/** The governance patterns: validation chains, approval gates, A/B tests, feedback loops, typed prompt templates and request batching. */
export { ValidationChainState, ValidationResultSchema, createValidationChain } from "./validation-chain.ts";
export type { ValidationChainOptions, ValidationCheck, ValidationCheckContext, ValidationResult, ValidationStage } from "./validation-chain.ts";
export { approvalGate } from "./approval-gate.ts";
export type { ApprovalGateOptions, GateActor, GateUpdate } from "./approval-gate.ts";
export { AbTestState, createAbTest } from "./ab-test.ts";
export type { AbArm, AbArmResult, AbComparison, AbResults, AbTest, AbTestOptions } from "./ab-test.ts";
export { createFeedbackStore } from "./feedback.ts";
export type { FeedbackAggregate, FeedbackEntry, FeedbackFilter, FeedbackRouteDecision, FeedbackStore, NewFeedback, PreferredModelOptions } from "./feedback.ts";
export { PromptVariablesError, definePrompt } from "./prompt-template.ts";
export type { Prompt, PromptExample, PromptOptions } from "./prompt-template.ts";
export { BatchResultMismatchError, createRequestBatcher } from "./request-batching.ts";
export type { RequestBatcher, RequestBatcherOptions } from "./request-batching.ts";
