/** The agent-team patterns: a hierarchical coordinator over workers, and a sequential handoff chain. */
export { DelegationSchema, HierarchicalState, HierarchicalTerminationSchema, createHierarchicalGraph, quoteResult } from "./hierarchical.ts";
export type { Delegation, HierarchicalOptions, HierarchicalTermination, HierarchicalWorker, WorkerDelegation, WorkerSpec } from "./hierarchical.ts";
export { HandoffReviewSchema, createHandoffGraph, handoffState } from "./handoff.ts";
export type { Handoff, HandoffOptions, HandoffReview, HandoffStage, HandoffStages, HandoffTermination } from "./handoff.ts";
