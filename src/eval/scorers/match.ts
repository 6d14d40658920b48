import type { TaskOutput } from "../types.ts";
import { ScorerError, clip, expectedOf } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

/** Options every text-comparing scorer takes. */
export interface TextScorerOptions {
  /** The text to score (default: `output.text`), e.g. one field of a structured answer. */
  pick?: (output: TaskOutput) => string;
  /** The scorer's name in reports, when a suite uses the same scorer twice. */
  name?: string;
}

const textOf = (output: TaskOutput, pick?: (output: TaskOutput) => string) => (pick ? pick(output) : output.text);

/** Trimmed, lower-cased, whitespace collapsed, one trailing full stop dropped. */
export function normalizeText(text: string): string {
  return text.trim().toLowerCase().replace(/\s+/g, " ").replace(/\.$/, "").trim();
}

/**
 * 1 when the text equals the expected answer. With `normalize` (default true) case, surrounding
 * and repeated whitespace and a trailing full stop do not matter ("Paris." equals "paris").
 */
export function exact(options: TextScorerOptions & { normalize?: boolean } = {}): PureScorer<unknown, string | number> {
  const name = options.name ?? "exact";
  const normalize = options.normalize ?? true;
  const form = (text: string) => (normalize ? normalizeText(text) : text);
  return {
    name,
    description: `1 = the answer equals the expected answer${normalize ? " (ignoring case, whitespace and a final full stop)" : ""}`,
    score({ sample, output }) {
      const expected = String(expectedOf(name, sample));
      const text = textOf(output, options.pick);
      if (form(text) === form(expected)) return { score: 1, reason: `The answer equals "${clip(expected)}".` };
      return { score: 0, reason: `Expected "${clip(expected)}", got "${clip(text)}".` };
    },
  };
}

/**
 * 1 when the expected text appears in the answer. A list of expected strings needs every one
 * (`mode: "all"`, the default) or at least one (`mode: "any"`). Case-insensitive unless `caseSensitive`.
 */
export function includes(options: TextScorerOptions & { caseSensitive?: boolean; mode?: "all" | "any" } = {}): PureScorer<unknown, string | string[]> {
  const name = options.name ?? "includes";
  const mode = options.mode ?? "all";
  const form = (text: string) => (options.caseSensitive ? text : text.toLowerCase());
  return {
    name,
    description: `1 = the answer contains ${mode === "all" ? "every" : "at least one"} expected string`,
    score({ sample, output }) {
      const expected = expectedOf(name, sample);
      const wanted = Array.isArray(expected) ? expected : [expected];
      const text = form(textOf(output, options.pick));
      const found = wanted.filter((item) => text.includes(form(item)));
      const missing = wanted.filter((item) => !found.includes(item));
      const pass = mode === "all" ? missing.length === 0 : found.length > 0;
      const list = (items: string[]) => items.map((item) => `"${clip(item, 40)}"`).join(", ");
      const reason = pass
        ? `The answer contains ${list(found)}.`
        : mode === "all" ? `The answer lacks ${list(missing)}.` : `The answer contains none of ${list(wanted)}.`;
      return { score: pass ? 1 : 0, reason, details: { found, missing } };
    },
  };
}

/** 1 when the pattern matches the answer. `flags` replace the pattern's own; "g" and "y" are ignored. */
export function regex(pattern: RegExp | string, options: TextScorerOptions & { flags?: string } = {}): PureScorer {
  const name = options.name ?? "regex";
  const source = typeof pattern === "string" ? pattern : pattern.source;
  const flags = (options.flags ?? (typeof pattern === "string" ? "" : pattern.flags)).replace(/[gy]/g, "");
  let compiled: RegExp;
  try {
    compiled = new RegExp(source, flags);
  } catch (error) {
    throw new ScorerError(`Scorer "${name}": /${source}/${flags} is not a valid regular expression (${(error as Error).message}). Fix the pattern.`, { cause: error, details: { pattern: source, flags } });
  }
  return {
    name,
    description: `1 = the answer matches ${compiled}`,
    score({ output }) {
      const text = textOf(output, options.pick);
      const match = compiled.exec(text);
      if (match) return { score: 1, reason: `${compiled} matched "${clip(match[0])}".`, details: { match: match[0], index: match.index } };
      return { score: 0, reason: `${compiled} does not match "${clip(text)}".` };
    },
  };
}
