import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage } from "@langchain/core/messages";
import type { ModelInfo } from "../events/types.ts";
import { classifyFailure } from "./classify.ts";

/** What stands behind the primary model when it fails for good, in order. */
export interface FallbackChain {
  /** Backup models, tried in order, each with its own retries and circuit breaker. */
  models?: Array<{ model: BaseChatModel; info: ModelInfo }>;
  /** Answer from the response cache for the same request, even a stale or sampled one. */
  useCache?: boolean;
  /** Last resort for plain-text calls: a fixed answer that says the service is degraded. */
  template?: string;
}

export type FallbackLevel = "primary" | "backup" | "cache" | "template";

export interface FallbackAttempts<T> {
  /** Calls the primary (no argument) or a backup model, through the usual policy. */
  call: (backup?: { model: BaseChatModel; info: ModelInfo }) => Promise<T>;
  /** A cached answer for this request, if the cache has one. */
  cached?: () => Promise<T | undefined>;
  /** Whether the caller can take a plain text message (structured calls cannot). */
  acceptsText: boolean;
  onFallback?: (change: { level: FallbackLevel; model?: string; reason: string }) => void;
}

/** A failure that another model, the cache or a template may stand in for: the provider's fault, not the request's or Conclave's. */
export function worthFallingBack(error: unknown): boolean {
  if ((error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError) return true;
  const failure = classifyFailure(error);
  return failure.retryable || failure.reason === "quota-exhausted" || (failure.status !== undefined && failure.status >= 500);
}

/**
 * Runs a call down the fallback chain: primary → backup models → cached answer → template. The
 * first level that answers wins, and says which it was; if none can, the primary's error stands.
 */
export async function withFallbacks<T>(chain: FallbackChain | undefined, attempts: FallbackAttempts<T>): Promise<{ output: T; level: FallbackLevel; model?: string }> {
  try {
    return { output: await attempts.call(), level: "primary" };
  } catch (primaryError) {
    if (!chain || !worthFallingBack(primaryError)) throw primaryError;
    const reason = primaryError instanceof Error ? primaryError.message.slice(0, 160) : String(primaryError);
    for (const backup of chain.models ?? []) {
      attempts.onFallback?.({ level: "backup", model: backup.info.name, reason });
      try {
        return { output: await attempts.call(backup), level: "backup", model: backup.info.name };
      } catch (backupError) {
        if (!worthFallingBack(backupError)) throw backupError;
      }
    }
    if (chain.useCache && attempts.cached) {
      const cached = await attempts.cached();
      if (cached !== undefined) {
        attempts.onFallback?.({ level: "cache", reason });
        return { output: cached, level: "cache" };
      }
    }
    if (chain.template !== undefined && attempts.acceptsText) {
      attempts.onFallback?.({ level: "template", reason });
      return { output: new AIMessage(chain.template) as T, level: "template" };
    }
    throw primaryError;
  }
}
