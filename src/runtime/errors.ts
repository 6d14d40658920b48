import { GraphRecursionError } from "@langchain/langgraph";
import { ConclaveError, ProviderError, RunAbortedError, StepLimitError, isConclaveError } from "../errors.ts";
import { isModelCallError } from "../models/observe.ts";

/** What the error mapper needs to know about the run to give a useful fix. */
export interface ErrorContext {
  stepLimit: number;
  signal?: AbortSignal;
  /** The provider endpoint, when the model talks to one. */
  endpoint?: string;
  timeoutMs?: number;
  /** The run's hard time limit, when it had one. */
  runTimeoutMs?: number;
}

/**
 * Maps whatever a graph threw onto a ConclaveError with a message that says what to do.
 * Provider failures are recognised by their shape (status, name, code), so they are caught
 * whichever client produced them.
 */
export function toConclaveError(error: unknown, context: ErrorContext): ConclaveError {
  if (isConclaveError(error)) return error;
  // Parallel branches that fail together arrive as one "Multiple errors occurred" error: the first
  // branch error that says something specific is the one to show.
  const inner = (error as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(inner) && inner.length) {
    const mapped = inner.map((item) => toConclaveError(item, context));
    return mapped.find((item) => item.code !== "INTERNAL") ?? mapped[0]!;
  }
  if (context.signal?.aborted) {
    const reason = context.signal.reason as { name?: string } | undefined;
    if (reason?.name === "TimeoutError" && context.runTimeoutMs !== undefined) {
      return new ConclaveError("RUN_TIMEOUT", "user", `The run took longer than its ${context.runTimeoutMs / 1000} s limit and was cancelled, requests and tools included. Raise --timeout, or use --max-time to stop gracefully with the best result so far.`, { cause: error, details: { runTimeoutMs: context.runTimeoutMs } });
    }
    return new RunAbortedError(context.signal.reason ?? error);
  }
  if (error instanceof GraphRecursionError) return new StepLimitError(context.stepLimit, error);
  // Only errors out of a model call are read as provider failures: a node's own "timed out" is not.
  const provider = isModelCallError(error) ? providerError(error, context) : undefined;
  if (provider) return provider;
  const message = error instanceof Error ? error.message : String(error);
  return new ConclaveError("INTERNAL", "system", `The run failed unexpectedly: ${message}. This is likely a bug in a node or tool; rerun with --verbose for the stack.`, { cause: error });
}

function providerError(error: unknown, context: ErrorContext): ProviderError | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name = "", message = "", status, code, lc_error_code: lcCode } = error as { name?: string; message?: string; status?: number; code?: string; lc_error_code?: string };
  const where = context.endpoint ? ` at ${context.endpoint}` : "";
  if ((error as { isBrokenCircuitError?: boolean }).isBrokenCircuitError) {
    return new ProviderError("PROVIDER_CIRCUIT_OPEN", `The model provider${where} failed repeatedly, so its circuit breaker is open and calls fail fast for now. Wait for the cool-down (one probe call is then let through), check the provider ("conclave doctor"), or configure a fallback model.`, { cause: error, details: { endpoint: context.endpoint } });
  }
  const causeCode = (error as { cause?: { code?: string } }).cause?.code;
  if (name === "TimeoutError" || name === "APIConnectionTimeoutError" || /timed? ?out/i.test(message)) {
    return new ProviderError("PROVIDER_TIMEOUT", `The model provider${where} did not answer within ${context.timeoutMs ?? "the"} ms. Check that the server is healthy, or raise model.timeoutMs (CONCLAVE_TIMEOUT_MS).`, { cause: error, details: { endpoint: context.endpoint } });
  }
  if (name === "APIConnectionError" || /ECONNREFUSED|ENOTFOUND|ECONNRESET|EAI_AGAIN|socket hang up|Connection error/i.test(`${message} ${code ?? ""} ${causeCode ?? ""}`)) {
    return new ProviderError("PROVIDER_UNREACHABLE", `Cannot reach the model provider${where} (${causeCode ?? code ?? message}). Start the server or fix OPENAI_BASE_URL; unset OPENAI_BASE_URL and OPENAI_API_KEY to use the offline model.`, { cause: error, details: { endpoint: context.endpoint } });
  }
  if (typeof status !== "number") return undefined;
  const fixes: Record<number, [string, string]> = {
    401: ["PROVIDER_AUTH", "The provider rejected the API key. Set a valid OPENAI_API_KEY."],
    403: ["PROVIDER_FORBIDDEN", "The provider refused access to this model. Check the key's permissions or pick another model (CONCLAVE_MODEL)."],
    404: ["PROVIDER_MODEL_NOT_FOUND", "The provider does not know this model or path. Set CONCLAVE_MODEL to a model it serves, and check that OPENAI_BASE_URL ends in /v1."],
    429: ["PROVIDER_RATE_LIMITED", "The provider kept rate-limiting the requests after the retries. Wait and retry, lower the request rate, or raise model.maxRetries."],
  };
  const [errorCode, fix] = fixes[status] ?? (status >= 500 ? ["PROVIDER_FAILED", "The provider kept failing after the retries. Check the server's health or try again later."] : ["PROVIDER_REJECTED", "The provider rejected the request as invalid; the detail above says which part."]);
  return new ProviderError(errorCode, `Model provider${where} answered ${status}: ${message.slice(0, 300)}. ${fix}`, { cause: error, details: { status, endpoint: context.endpoint, ...(lcCode ? { lcErrorCode: lcCode } : {}) } });
}
