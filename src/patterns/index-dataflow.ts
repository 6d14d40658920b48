/** The dataflow patterns: ETL, batch (with scheduling and dead-letter replay), stream processing with backpressure, and deployments. */
export { EtlExtractError, EtlState, RejectedRecord, createEtlGraph, rejectRecord } from "./etl.ts";
export type { EtlContext, EtlFailure, EtlLoadResult, EtlOptions, EtlStage, EtlStageCount } from "./etl.ts";
export { replayBatchItems, runBatch } from "./batch.ts";
export type { BatchFailure, BatchItemContext, BatchOptions, BatchProgress, BatchReport, BatchSettings, DeadLetterSink, ReplayableDeadLetters } from "./batch.ts";
export { BatchState, createBatchGraph } from "./batch-graph.ts";
export type { BatchGraphOptions } from "./batch-graph.ts";
export { scheduleBatch } from "./batch-schedule.ts";
export type { BatchScheduleEvent, BatchScheduleOptions, ScheduledBatch } from "./batch-schedule.ts";
export { StreamProcessingError, createStreamProcessor } from "./stream.ts";
export type { StreamAlert, StreamBatchContext, StreamProcessorOptions, StreamReport } from "./stream.ts";
export { UnknownFlagError, createDeployment, stableBucket } from "./deployment.ts";
export type { Deployment, DeploymentEvent, DeploymentOptions, DeploymentRoute, DeploymentVersion, FlagRule, RollbackRule } from "./deployment.ts";
export { DEFAULT_DEPLOYMENT_PATH, MemoryDeploymentStore, SqliteDeploymentStore } from "./deployment-store.ts";
export type { DeploymentState, DeploymentStore, DeploymentVersionStats } from "./deployment-store.ts";
