import { ConclaveError } from "../errors.ts";
import type { ConclaveErrorOptions, ErrorCategory } from "../errors.ts";

/**
 * The audit log cannot be read, locked or extended. Codes: `AUDIT_LOG_MISSING` (no file),
 * `AUDIT_LOG_LOCKED` (another process kept the lock), `AUDIT_LOG_DAMAGED` (its last line is not a record).
 */
export class AuditLogError extends ConclaveError {
  override name = "AuditLogError";
  constructor(code: string, message: string, options?: ConclaveErrorOptions, category: ErrorCategory = "user") {
    super(code, category, message, options);
  }
}
