/** The flow patterns: sequential pipelines, parallel fan-out/merge, conditional routing, chain of thought. */
export { SequentialState, StageFailedError, createSequentialGraph } from "./sequential.ts";
export type { SequentialOptions, SequentialStage, SequentialStageContext, SequentialStageState } from "./sequential.ts";
export { BranchOutcomeSchema, ParallelBranchError, QuorumNotMetError, createParallelGraph, parallelStateSchema } from "./parallel.ts";
export type { BranchContext, BranchInput, BranchOutcome, BranchValues, MergeReport, ParallelBranch, ParallelOptions, ParallelPolicy } from "./parallel.ts";
export { RoutingDecisionSchema, RoutingState, createRoutingGraph, graphRoute } from "./conditional.ts";
export type { GraphRoute, ModelClassifier, RouteClassification, RouteHandler, RoutingDecision, RoutingOptions, RuleClassifier } from "./conditional.ts";
export { ChainOfThoughtPlanSchema, ChainOfThoughtState, ChainOfThoughtStepSchema, createChainOfThoughtGraph } from "./chain-of-thought.ts";
export type { ChainOfThoughtOptions, ChainOfThoughtStep } from "./chain-of-thought.ts";
