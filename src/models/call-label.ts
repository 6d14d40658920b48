import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { runContext } from "../runtime/context.ts";
import type { ModelCallLabel } from "./observe.ts";
import { endpointOf } from "./observe.ts";
import { OfflineChatModel } from "./offline/chat-model.ts";
import { describeModel } from "./resolve.ts";

/**
 * The label `observeModelCall` needs for a call to `model` with `messages`: the run's name for
 * the model (or one read from it), provider and endpoint (the breaker key), whether the call
 * samples (the cache skips those), and the request itself (the cache and cassette key). Build
 * every hand-made model call's label with this, so fallbacks, cache, breakers and replay treat
 * it exactly like an agent's call.
 */
export function modelCallLabel(model: BaseChatModel, config: LangGraphRunnableConfig | undefined, messages: readonly unknown[], extra: { tools?: readonly unknown[]; parameters?: Record<string, unknown> } = {}): ModelCallLabel & { request: NonNullable<ModelCallLabel["request"]> } {
  const context = runContext(config);
  const info = context.model === model && context.modelInfo ? context.modelInfo : describeModel(model);
  // The offline model is deterministic; a provider model samples unless its temperature is 0.
  const temperature = (model as { temperature?: unknown }).temperature;
  const sampling = !info.offline && !(model instanceof OfflineChatModel) && temperature !== 0;
  const endpoint = endpointOf(model);
  return {
    model: info.name,
    provider: info.provider,
    messageCount: messages.length,
    sampling,
    ...(endpoint ? { endpoint } : {}),
    request: { messages, ...(extra.tools ? { tools: extra.tools } : {}), parameters: { temperature: temperature ?? null, ...extra.parameters } },
  };
}
