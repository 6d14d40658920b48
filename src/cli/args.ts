import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/**
 * Strict flag parsing: an unknown flag or a missing value is a UsageError naming the flag and
 * pointing at the command's help, never silently ignored.
 */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages run over several lines ("…ambiguous / Did you forget…"); the CLI promises one.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "").replace(/\s*\r?\n\s*/g, " ").replace(/\.$/, "");
    throw new UsageError(`conclave ${command}: ${message}. Run "conclave ${command} --help" for the options.`, { cause: error });
  }
}

/** Parses a positive whole number flag. */
export function positiveInteger(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`conclave ${command}: --${flag} needs a positive whole number, got "${value}".`);
  return parsed;
}

/** Parses a positive number flag (decimals allowed, e.g. a cost in USD). */
export function positiveNumber(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new UsageError(`conclave ${command}: --${flag} needs a positive number, got "${value}".`);
  return parsed;
}
