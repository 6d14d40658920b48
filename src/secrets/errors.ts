import { ConclaveError } from "../errors.ts";
import type { ConclaveErrorOptions } from "../errors.ts";

/** The secrets file cannot be read or holds a line that is not `KEY=value`. */
export class SecretsError extends ConclaveError {
  override name = "SecretsError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("SECRETS_INVALID", "user", message, options);
  }
}

/** Checkpoint data holds a secret outside a JSON string, where it cannot be masked without corrupting the data. */
export class RedactionError extends ConclaveError {
  override name = "RedactionError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("REDACTION_FAILED", "system", message, options);
  }
}
