/**
 * Who has to act when something goes wrong:
 * - `user`: bad input, flags, configuration or schema — fix the call.
 * - `provider`: the model endpoint failed or answered badly — check the provider.
 * - `system`: a bug or an environment problem in Conclave itself.
 */
export type ErrorCategory = "user" | "provider" | "system";

export interface ConclaveErrorOptions {
  /** Extra structured facts (field names, limits, ids) for logs and `--json`. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * Base class of every error Conclave raises on purpose. The message always says what happened
 * and what to do about it; `code` is stable for programs, `category` says who has to act.
 */
export class ConclaveError extends Error {
  override name = "ConclaveError";
  readonly code: string;
  readonly category: ErrorCategory;
  readonly details: Record<string, unknown>;

  constructor(code: string, category: ErrorCategory, message: string, options: ConclaveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.category = category;
    this.details = options.details ?? {};
  }

  /** A plain object for logs and JSON output; the cause is summarised, not serialised whole. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause instanceof Error ? this.cause.message : this.cause;
    return { name: this.name, code: this.code, category: this.category, message: this.message, details: this.details, ...(cause === undefined ? {} : { cause }) };
  }
}

/** A configuration file, environment variable or flag holds a value Conclave cannot use. */
export class ConfigError extends ConclaveError {
  override name = "ConfigError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("CONFIG_INVALID", "user", message, options);
  }
}

/** The command line was used wrongly (unknown flag, missing argument). */
export class UsageError extends ConclaveError {
  override name = "UsageError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("USAGE", "user", message, options);
  }
}

/** A definition passed to `defineTool` / `defineAgent` / `defineGraph` is malformed. */
export class DefinitionError extends ConclaveError {
  override name = "DefinitionError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("DEFINITION_INVALID", "user", message, options);
  }
}

/** A registered graph could not be found or loaded. */
export class GraphNotFoundError extends ConclaveError {
  override name = "GraphNotFoundError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("GRAPH_NOT_FOUND", "user", message, options);
  }
}

/** The model provider could not be reached, refused the request, or timed out. */
export class ProviderError extends ConclaveError {
  override name = "ProviderError";
  constructor(code: string, message: string, options?: ConclaveErrorOptions) {
    super(code, "provider", message, options);
  }
}

/** The model's final answer did not satisfy the agent's `outputSchema`, even after feedback. */
export class OutputValidationError extends ConclaveError {
  override name = "OutputValidationError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("OUTPUT_INVALID", "provider", message, options);
  }
}

/**
 * An agent used all of its `maxSteps` model calls without giving a final answer.
 * `partialState` holds the conversation so far, so the work done is not lost.
 */
export class MaxStepsExceededError<TState = unknown> extends ConclaveError {
  override name = "MaxStepsExceededError";
  readonly partialState: TState;
  constructor(agent: string, maxSteps: number, partialState: TState) {
    super(
      "MAX_STEPS_EXCEEDED",
      "user",
      `Agent "${agent}" used all ${maxSteps} steps without a final answer. Raise its maxSteps, give it better tools or instructions, or read error.partialState for the work done so far.`,
      { details: { agent, maxSteps } },
    );
    this.partialState = partialState;
  }
}

/** The run was cancelled through its AbortSignal. */
export class RunAbortedError extends ConclaveError {
  override name = "RunAbortedError";
  constructor(reason: unknown) {
    super("RUN_ABORTED", "user", `The run was aborted${reason instanceof Error ? `: ${reason.message}` : ""}.`, { cause: reason });
  }
}

/** The graph took more LangGraph steps than its step limit allows. */
export class StepLimitError extends ConclaveError {
  override name = "StepLimitError";
  constructor(limit: number, cause: unknown) {
    super(
      "STEP_LIMIT",
      "user",
      `The run stopped after ${limit} graph steps without finishing. Raise the limit with { stepLimit } (CLI: --step-limit) if the task needs more steps, or check the graph for a loop.`,
      { details: { stepLimit: limit }, cause },
    );
  }
}

/** Narrowing helper that also works across duplicated module instances. */
export function isConclaveError(error: unknown): error is ConclaveError {
  return error instanceof ConclaveError || (error instanceof Error && typeof (error as Partial<ConclaveError>).code === "string" && typeof (error as Partial<ConclaveError>).category === "string");
}
