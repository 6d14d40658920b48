import { timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "./errors.ts";
import type { ReplayCache } from "./replay.ts";
import { webhookDigest, webhookKey } from "./sign.ts";

export { WebhookVerificationError } from "./errors.ts";
export type { WebhookRejection } from "./errors.ts";

/** The three Standard Webhooks headers and the raw body, exactly as received. */
export interface WebhookRequest {
  /** `webhook-id` */
  id: string | undefined;
  /** `webhook-timestamp`: whole seconds since the epoch. */
  timestamp: string | number | undefined;
  /** The raw body: verify before parsing, since re-serialised JSON does not match the signature. */
  body: string | Uint8Array;
  /** `webhook-signature`: space-separated `v1,<base64>` entries. */
  signatures: string | undefined;
}

export interface VerifyOptions {
  /** Every secret currently valid; give old and new during a key rotation. */
  secrets: string[];
  /** How far the timestamp may be from now, either way (default 300 seconds). */
  toleranceSec?: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /** Where accepted ids are kept; an id seen before is refused as a replay. */
  replayCache: ReplayCache;
}

/** A webhook that passed every check. */
export interface VerifiedWebhook {
  id: string;
  /** Seconds since the epoch. */
  timestamp: number;
  body: string;
  /** The body parsed as JSON. */
  payload: unknown;
}

const SIGNATURE_BYTES = 32; // HMAC-SHA256
const ID_PATTERN = /^[\x21-\x7e]{1,256}$/; // printable ASCII without spaces: safe in keys and logs

/**
 * Verifies a Standard Webhooks request: HMAC-SHA256 of `${id}.${timestamp}.${body}`, accepted if any
 * `v1` entry matches any secret (compared in constant time), the timestamp is within the tolerance
 * both ways, and the id has not been accepted before. Throws a WebhookVerificationError whose
 * `reason` says which check failed; answer 400/401 and do not retry on it.
 */
export async function verifyWebhook(request: WebhookRequest, options: VerifyOptions): Promise<VerifiedWebhook> {
  if (options.secrets.length === 0) throw new WebhookVerificationError("secret-too-short", "No webhook secret is configured. Set at least one secret of 24 bytes or more.", { bytes: 0 });
  const keys = options.secrets.map(webhookKey); // configuration errors first, whatever the request holds
  const { id, signatures } = request;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) throw malformed("The webhook-id header is missing or is not 1–256 printable characters.");
  const timestamp = parseTimestamp(request.timestamp);
  if (typeof signatures !== "string" || signatures.trim() === "") throw malformed("The webhook-signature header is missing.");

  const toleranceSec = options.toleranceSec ?? 300;
  const nowSec = Math.floor((options.now ?? Date.now)() / 1_000);
  if (timestamp < nowSec - toleranceSec) throw new WebhookVerificationError("timestamp-stale", `The webhook timestamp is ${nowSec - timestamp} s old, more than the ${toleranceSec} s allowed. The sender should sign each delivery attempt afresh; check both clocks.`, { timestamp, now: nowSec, toleranceSec });
  if (timestamp > nowSec + toleranceSec) throw new WebhookVerificationError("timestamp-future", `The webhook timestamp is ${timestamp - nowSec} s in the future, more than the ${toleranceSec} s allowed. Check the sender's clock.`, { timestamp, now: nowSec, toleranceSec });

  const candidates = parseSignatures(signatures);
  const content = { id, timestamp: String(request.timestamp).trim(), body: request.body };
  const expected = keys.map((key) => webhookDigest(content, key));
  // Every pair is compared, so the time taken does not tell which secret or entry came close.
  let matched = false;
  for (const candidate of candidates) {
    for (const digest of expected) {
      if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) matched = true;
    }
  }
  if (!matched) {
    const truncated = candidates.some((candidate) => candidate.length !== SIGNATURE_BYTES);
    throw new WebhookVerificationError("signature", `No webhook signature matches any configured secret${truncated ? " (a signature has the wrong length: truncated?)" : ""}. Check that the sender uses the same secret and signs the raw body.`, { entries: candidates.length, secrets: keys.length });
  }

  // Remember only verified ids, so forged requests cannot block a real one. Past 2× tolerance the
  // timestamp check refuses the request anyway, so the id need not be kept longer.
  if (!(await options.replayCache.remember(id, 2 * toleranceSec * 1_000))) {
    throw new WebhookVerificationError("replay", `Webhook "${id}" was already accepted; a repeated delivery is refused.`, { id });
  }
  const body = typeof request.body === "string" ? request.body : Buffer.from(request.body).toString("utf8");
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (error) {
    throw new WebhookVerificationError("malformed", "The webhook body is not JSON. Standard Webhooks payloads must be JSON objects.", { id, cause: error instanceof Error ? error.message : String(error) });
  }
  return { id, timestamp, body, payload };
}

function malformed(message: string): WebhookVerificationError {
  return new WebhookVerificationError("malformed", `${message} Send the webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks).`);
}

function parseTimestamp(raw: string | number | undefined): number {
  const text = raw === undefined ? "" : String(raw).trim();
  if (!/^\d{1,15}$/.test(text)) throw malformed("The webhook-timestamp header is missing or is not whole seconds since the epoch.");
  return Number(text);
}

/** The decoded `v1` entries; entries of other versions are ignored, as the scheme requires. */
function parseSignatures(header: string): Buffer[] {
  const entries = header.trim().split(/\s+/);
  const decoded: Buffer[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(",");
    if (comma <= 0) throw malformed(`The signature entry "${entry.slice(0, 16)}" is not "<version>,<base64>".`);
    if (entry.slice(0, comma) !== "v1") continue;
    const value = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw malformed("A v1 signature is not base64.");
    decoded.push(Buffer.from(value, "base64"));
  }
  if (decoded.length === 0) throw malformed("The webhook-signature header has no v1 entry.");
  return decoded;
}
