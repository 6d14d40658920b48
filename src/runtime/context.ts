import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { RunEventSink } from "../events/emitter.ts";
import type { ModelInfo } from "../events/types.ts";

/**
 * What `run()` hands every node through LangGraph's runtime `context` (never checkpointed):
 * the run's default model and its event sink. Graphs read it with `runContext(config)`.
 */
export interface ConclaveContext {
  /** The model agents use when their definition names none. */
  model?: BaseChatModel;
  /** Provider and name of `model`, for labels. */
  modelInfo?: ModelInfo;
  /** Where nodes report tool calls and other events. */
  events?: RunEventSink;
}

/** The Conclave context of the current node call (empty outside `run()`). */
export function runContext(config: LangGraphRunnableConfig | undefined): ConclaveContext {
  const context = (config as { context?: unknown } | undefined)?.context;
  return typeof context === "object" && context !== null ? (context as ConclaveContext) : {};
}
