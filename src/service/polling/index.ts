export { FolderSourceSchema, HttpJsonSourceSchema, PollSourceConfigSchema, parsePollSourceConfig, parsePollSourceConfigs } from "./config.ts";
export type { FolderSourceConfig, HttpJsonSourceConfig, PollSourceConfig, PollSourceConfigInput } from "./config.ts";
export { PollFetchError, PollerConfigError } from "./errors.ts";
export { startPoller, startPollers } from "./poller.ts";
export type { PolledItem, PollLogEntry, Poller, PollerGroup, PollerOptions, PollResult } from "./poller.ts";
export { FilePollStateStore, MemoryPollStateStore, PollStateError } from "./state.ts";
export type { PollSourceState, PollStateStore } from "./state.ts";
