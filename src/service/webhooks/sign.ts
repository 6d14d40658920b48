import { createHmac } from "node:crypto";
import { WebhookVerificationError } from "./errors.ts";

/** What is signed: the Standard Webhooks `webhook-id`, `webhook-timestamp` (seconds) and the raw body. */
export interface WebhookContent {
  id: string;
  timestamp: number | string;
  body: string | Uint8Array;
}

/** Shorter keys make HMAC guessable in practice; Standard Webhooks asks for 24 to 64 bytes. */
export const MIN_SECRET_BYTES = 24;

/**
 * The HMAC key of a secret: a `whsec_<base64>` secret (the Standard Webhooks format) is decoded,
 * any other string is used as its UTF-8 bytes. Keys under 24 bytes are refused as configuration.
 */
export function webhookKey(secret: string): Buffer {
  const key = secret.startsWith("whsec_") ? Buffer.from(secret.slice("whsec_".length), "base64") : Buffer.from(secret, "utf8");
  if (key.length < MIN_SECRET_BYTES) {
    throw new WebhookVerificationError(
      "secret-too-short",
      `A webhook secret is ${key.length} bytes long; at least ${MIN_SECRET_BYTES} are needed. Generate one with \`node -e "console.log('whsec_' + crypto.randomBytes(32).toString('base64'))"\` and configure it on both sides.`,
      { bytes: key.length, minimum: MIN_SECRET_BYTES },
    );
  }
  return key;
}

/** The raw HMAC-SHA256 of `${id}.${timestamp}.${body}` under one key. */
export function webhookDigest(content: WebhookContent, key: Buffer): Buffer {
  const body = typeof content.body === "string" ? Buffer.from(content.body, "utf8") : Buffer.from(content.body);
  return createHmac("sha256", key).update(`${content.id}.${content.timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value (`v1,<base64>`) for outbound notifications and tests. */
export function signWebhook(content: WebhookContent, secret: string): string {
  return `v1,${webhookDigest(content, webhookKey(secret)).toString("base64")}`;
}
