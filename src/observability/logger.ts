import { isatty } from "node:tty";
import { pino } from "pino";
import type { DestinationStream, Logger } from "pino";
import { prettyFactory } from "pino-pretty";
import { UsageError } from "../errors.ts";
import type { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";

/** The levels Conclave logs at; `debug` adds every node, model and tool call. */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export interface LoggerOptions {
  /** The least severe level written (default `info`). */
  level?: LogLevel;
  /** Human-readable lines instead of JSON (default: when the destination is a terminal). */
  pretty?: boolean;
  /** A stream, or a file descriptor (default 2, stderr, so logs never mix with results on stdout). */
  destination?: NodeJS.WritableStream | number;
  /**
   * Applied to the final text of every line before it is written, so a secret (an API key, a
   * token in an error message) never reaches the output, whatever field it hides in.
   */
  redact?: (text: string) => string;
}

/**
 * Creates a structured logger: one JSON object per line (pino), or pino-pretty lines on a
 * terminal. Everything is written synchronously in this thread, so the last lines before a
 * crash or `process.exit` are not lost and no worker thread is started.
 *
 * @example
 * const logger = createLogger({ level: "debug", redact: (text) => text.replaceAll(apiKey, "[redacted]") });
 * const detach = attachLogger(events, logger);
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = "info", destination = 2, redact } = options;
  const pretty = options.pretty ?? isTerminal(destination);
  const output = writerFor(destination);
  return pino(
    {
      level,
      // Records name their run and thread; pid and hostname are the log shipper's business.
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // The JSON line is the final text unless pretty; redacting it here also keeps pretty input clean.
      ...(redact ? { hooks: { streamWrite: redact } } : {}),
    },
    pretty ? prettyStream(output, isTerminal(destination), redact) : output,
  );
}

/**
 * Reads a log level from a flag, an environment variable or a configuration file.
 *
 * @throws UsageError naming the accepted levels when `text` is not one of them.
 */
export function parseLogLevel(text: string, source = "log level"): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new UsageError(`Unknown ${source} ${JSON.stringify(text)}. Use one of: ${LOG_LEVELS.join(", ")} (debug also logs every node, model and tool call).`, {
    details: { value: text, allowed: [...LOG_LEVELS] },
  });
}

function isTerminal(destination: NodeJS.WritableStream | number): boolean {
  if (typeof destination === "number") return isatty(destination);
  return (destination as { isTTY?: unknown }).isTTY === true;
}

/** A file descriptor becomes a synchronous sonic-boom stream; a stream is used as it is. */
function writerFor(destination: NodeJS.WritableStream | number): DestinationStream {
  if (typeof destination === "number") return pino.destination({ dest: destination, sync: true });
  return destination as unknown as DestinationStream;
}

/**
 * pino-pretty's formatter as a plain synchronous stream. Its `build()` stream pipes through
 * split and transform streams, which delay lines and may drop the last ones at exit; the
 * formatter itself is the same code without the plumbing. Redacting after formatting covers
 * secrets that JSON escaping hid from the first pass (a quote or backslash in a token).
 */
function prettyStream(output: DestinationStream, colorize: boolean, redact?: (text: string) => string): DestinationStream {
  const format = prettyFactory({ colorize, translateTime: "SYS:HH:MM:ss.l", ignore: "event" });
  return {
    write(line: string) {
      const text = format(line);
      output.write(redact ? redact(text) : text);
    },
  };
}

/**
 * Logs every event of the runs on `events` (all but `token`, which would be one record per chunk)
 * as one structured record: `runId`, `threadId`, `agent`, `node`, `round`, `event` (the type) and
 * the event's useful fields. Model, tool and node traffic is `debug`; run starts and ends and
 * approvals are `info`; retries, fallbacks, breakers and warnings `warn`; failures `error`.
 * Answer texts and tool outputs are left out (they are large and may be private); sizes stay.
 *
 * @returns A function that stops logging.
 * @example
 * const detach = attachLogger(events, createLogger({ level: "debug" }));
 */
export function attachLogger(events: RunEvents, logger: Logger): () => void {
  const listener = (event: ConclaveEvent) => {
    if (event.type === "token") return;
    const level = levelOf(event);
    if (logger.isLevelEnabled(level)) logger[level](recordOf(event), messageOf(event));
  };
  events.on("event", listener);
  return () => {
    events.off("event", listener);
  };
}

/** The level an event is logged at (see `attachLogger`). */
export function levelOf(event: ConclaveEvent): LogLevel {
  switch (event.type) {
    case "run-start":
    case "approval-request":
    case "approval-decision":
      return "info";
    case "run-end":
      return event.status === "failed" ? "error" : event.status === "aborted" ? "warn" : "info";
    case "retry":
    case "warning":
    case "fallback":
    case "breaker":
      return "warn";
    case "error":
    case "give-up":
      return "error";
    default:
      return "debug";
  }
}

/** The correlation fields first, then what this type of event adds. */
function recordOf(event: ConclaveEvent): Record<string, unknown> {
  const { type, runId, threadId, at: _at, ...fields } = event;
  const where = pick(fields as Record<string, unknown>, ["agent", "node", "round"]);
  return { runId, threadId, ...where, event: type, ...detailsOf(event, fields as Record<string, unknown>) };
}

/** Flattens usage into token counts and drops bulky or private texts; other fields pass as they are. */
function detailsOf(event: ConclaveEvent, fields: Record<string, unknown>): Record<string, unknown> {
  const { agent: _agent, node: _node, round: _round, ...rest } = fields;
  switch (event.type) {
    case "run-start":
      return { graph: event.graph, model: event.model.name, provider: event.model.provider, ...(event.resumed ? { resumed: true } : {}) };
    case "run-end": {
      const { usage } = event;
      return { status: event.status, durationMs: event.durationMs, modelCalls: usage.modelCalls, toolCalls: usage.toolCalls, tokens: { input: usage.inputTokens, output: usage.outputTokens }, costUsd: usage.costUsd, retries: usage.retries, ...(event.error ? { error: event.error } : {}) };
    }
    case "llm-call-end": {
      const { usage: _usage, text: _text, toolCalls: _toolCalls, ...kept } = rest;
      return { ...kept, tokens: { input: event.usage.inputTokens, output: event.usage.outputTokens }, toolCalls: event.toolCalls.map((call) => call.name), textChars: event.text.length };
    }
    case "tool-call-end": {
      const { output: _output, ...kept } = rest;
      return kept;
    }
    case "fallback": {
      // `level` is the record's log level in pino; the fallback level gets its own name.
      const { level, ...kept } = rest;
      return { ...kept, fallbackLevel: level };
    }
    default:
      return rest;
  }
}

function messageOf(event: ConclaveEvent): string {
  switch (event.type) {
    case "run-start":
      return `run-start ${event.graph}`;
    case "run-end":
      return `run-end ${event.status}${event.error ? `: ${String(event.error.message)}` : ""}`;
    case "node-start":
    case "node-end":
      return `${event.type} ${event.node}${event.type === "node-end" && event.error ? `: ${event.error}` : ""}`;
    case "llm-call-start":
    case "llm-call-end":
    case "retry":
    case "give-up":
      return `${event.type} ${event.model}`;
    case "tool-call-start":
    case "tool-call-end":
    case "data-access":
      return `${event.type} ${event.tool}`;
    case "warning":
      return event.message;
    case "error":
      return `error: ${String(event.error.message)}`;
    default:
      return event.type;
  }
}

function pick(fields: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => fields[key] !== undefined).map((key) => [key, fields[key]]));
}
