/** Quality patterns: iterative refinement, self-consistency, map-reduce and ensembles (the cascade lives in cascade.ts). */
export { RefinementDraftSchema, RefinementFinalSchema, RefinementScoreError, RefinementState, createRefinementGraph } from "./refinement.ts";
export type { RefinementCritiqueInput, RefinementDraft, RefinementOptions, RefinementReviseInput, RefinementStep, RefinementStopReason } from "./refinement.ts";
export { ConsistencyDecisionSchema, ConsistencySampleSchema, SelfConsistencyState, createSelfConsistencyGraph, withTemperature } from "./self-consistency.ts";
export type { ConsistencyDecision, ConsistencySample, SelfConsistencyOptions } from "./self-consistency.ts";
export { MapReduceLevelSchema, balancedGroups, createMapReduceGraph, mapReduceState, textChunks } from "./map-reduce.ts";
export type { MapContext, MapReduceLevel, MapReduceOptions, MapStep, ReduceContext, ReduceStep } from "./map-reduce.ts";
export { EnsembleDecisionSchema, EnsemblePredictionSchema, EnsembleState, createEnsembleGraph } from "./ensemble.ts";
export type { EnsembleDecision, EnsembleOptions, EnsemblePrediction, StackCombiner } from "./ensemble.ts";
