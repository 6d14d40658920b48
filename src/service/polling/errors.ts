import { ConclaveError } from "../../errors.ts";

/**
 * A source could not be read this time (folder missing, HTTP error, invalid JSON). The poller
 * logs it, backs off, and tries again; nothing is marked seen.
 */
export class PollFetchError extends ConclaveError {
  override name = "PollFetchError";
  constructor(source: string, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super("POLL_FETCH_FAILED", "system", `Poll source "${source}": ${message}`, { ...options, details: { source, ...options.details } });
  }
}

/** A poll source's configuration is unusable; the message names the field and how to fix it. */
export class PollerConfigError extends ConclaveError {
  override name = "PollerConfigError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("POLLER_CONFIG_INVALID", "user", message, { details });
  }
}
