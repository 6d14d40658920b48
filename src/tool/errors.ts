import { ConclaveError } from "../errors.ts";

/** Raised inside a tool call; the agent turns it into an observation the model can react to. */
export class ToolExecutionError extends ConclaveError {
  override name = "ToolExecutionError";
  constructor(tool: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super("TOOL_FAILED", "user", message, { ...options, details: { tool, ...options?.details } });
  }
}
