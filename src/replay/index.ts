/** Record a run's model and tool calls to a cassette file, and replay them without a provider. */
export { Cassette, toolRequestKey } from "./cassette.ts";
export type { ModelRequestInfo, RecorderOptions, ToolRequestInfo } from "./cassette.ts";
export { CASSETTE_VERSION } from "./format.ts";
export type { CassetteEntry, CassetteFile, CassetteMeta, ModelEntry, StoredOutput, ToolEntry, ToolOutput } from "./format.ts";
export { CassetteDriftError, CassetteFormatError } from "./errors.ts";
export type { DriftDetails, DriftSide } from "./errors.ts";
export { summarizeRequest } from "./summary.ts";
