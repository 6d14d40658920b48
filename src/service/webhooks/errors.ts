import { ConclaveError } from "../../errors.ts";

/**
 * Why an inbound webhook was refused. All but `secret-too-short` are the sender's fault (or an
 * attacker's); `secret-too-short` is our own configuration and is raised before anything is checked.
 */
export type WebhookRejection = "signature" | "timestamp-stale" | "timestamp-future" | "replay" | "malformed" | "secret-too-short";

/** A webhook failed verification (or could not be verified with the configured secrets). */
export class WebhookVerificationError extends ConclaveError {
  override name = "WebhookVerificationError";
  readonly reason: WebhookRejection;

  constructor(reason: WebhookRejection, message: string, details: Record<string, unknown> = {}) {
    super(`WEBHOOK_${reason.toUpperCase().replace(/-/g, "_")}`, "user", message, { details: { reason, ...details } });
    this.reason = reason;
  }
}
