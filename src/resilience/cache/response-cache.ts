import { AIMessage, mapChatMessagesToStoredMessages, mapStoredMessagesToChatMessages } from "@langchain/core/messages";
import type { BaseMessage, StoredMessage } from "@langchain/core/messages";
import type { CacheStore } from "./cache-store.ts";

/** A response cache for model calls: where answers are kept and on which terms. */
export interface ResponseCache {
  store: CacheStore;
  /** How long an answer stays valid (default: the store's own TTL). */
  ttlMs?: number;
  /** Also cache calls that sample (temperature above zero or unset on a provider model). Off by default: a cached sample is always the same sample. */
  cacheSampling?: boolean;
}

type Stored = { kind: "message"; message: StoredMessage } | { kind: "structured"; raw: StoredMessage; parsed: unknown };

/** The JSON form of a model call's output: a message, or `withStructuredOutput`'s `{ raw, parsed }`. */
export function toStored(output: unknown): Stored | undefined {
  if (AIMessage.isInstance(output)) return { kind: "message", message: mapChatMessagesToStoredMessages([output as BaseMessage])[0]! };
  const structured = output as { raw?: unknown; parsed?: unknown } | undefined;
  if (structured && AIMessage.isInstance(structured.raw)) return { kind: "structured", raw: mapChatMessagesToStoredMessages([structured.raw as BaseMessage])[0]!, parsed: structured.parsed };
  return undefined;
}

/** The output back from its JSON form, as the model would have returned it. */
export function fromStored(stored: Stored): unknown {
  if (stored.kind === "message") return mapStoredMessagesToChatMessages([stored.message])[0];
  return { raw: mapStoredMessagesToChatMessages([stored.raw])[0], parsed: stored.parsed };
}
