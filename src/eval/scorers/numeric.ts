import { ScorerError, clip, expectedOf } from "./shared.ts";
import type { PureScorer } from "./shared.ts";
import type { TextScorerOptions } from "./match.ts";

/** A number read from an answer, with where it came from. */
export interface ExtractedNumber {
  value: number;
  /** The number as written ("1,234.5", "50%"). */
  written: string;
  /** Which rule found it. */
  via: "boxed" | "####" | "last number";
}

// "1,234.5" (thousands groups), "1234.5", ".5", with an optional sign, exponent and percent sign.
// A minus right after a letter or digit is a hyphen ("1-3", "COVID-19"), not a sign; digits glued
// to letters ("CO2", "mp3") are not numbers.
const NUMBER = /(?<![\p{L}\p{N}.])[-−]?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:\s?%)?/gu;
// `[source-id]` citation markers, as `extractCitations` reads them: "8,849 m [everest#2]" ends in 8849, not 2.
const CITATION = /\[[\w][\w:./#-]{0,120}\]/g;

function lastNumber(text: string, percentAsFraction: boolean): { value: number; written: string } | undefined {
  const written = text.replace(CITATION, " ").match(NUMBER)?.at(-1);
  if (written === undefined) return undefined;
  const percent = written.endsWith("%");
  const value = Number(written.replace(/%$/, "").trim().replace(/,/g, "").replace("−", "-"));
  if (!Number.isFinite(value)) return undefined;
  return { value: percent && percentAsFraction ? value / 100 : value, written: written.trim() };
}

/**
 * The final answer's number: the last `\boxed{…}` if any (LaTeX / MATH style; `\frac{a}{b}` is
 * a / b), else what follows the last "####" (GSM8K style), else the last number in the text.
 * Thousands commas, signs, decimals and exponents are read; "50%" is 50, or 0.5 with
 * `percentAsFraction`. `[source-id]` citation markers are skipped.
 */
export function extractFinalNumber(text: string, options: { percentAsFraction?: boolean } = {}): ExtractedNumber | undefined {
  const percent = options.percentAsFraction ?? false;
  const boxed = [...text.matchAll(/\\boxed\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g)].at(-1);
  if (boxed) {
    const fraction = /^\s*(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}\s*$/.exec(boxed[1]!);
    if (fraction && Number(fraction[3]) !== 0) return { value: (fraction[1] ? -1 : 1) * (Number(fraction[2]) / Number(fraction[3])), written: boxed[1]!.trim(), via: "boxed" };
    const found = lastNumber(boxed[1]!, percent);
    if (found) return { ...found, via: "boxed" };
  }
  const marked = text.lastIndexOf("####");
  if (marked >= 0) {
    const line = text.slice(marked + 4).split("\n")[0]!;
    const first = line.replace(CITATION, " ").match(NUMBER)?.[0];
    const found = first === undefined ? undefined : lastNumber(first, percent);
    if (found) return { ...found, via: "####" };
  }
  const found = lastNumber(text, percent);
  return found && { ...found, via: "last number" };
}

export interface NumericOptions extends TextScorerOptions {
  /** Largest absolute difference that still matches. Default 1e-6. */
  tolerance?: number;
  /** Largest difference relative to the expected value that still matches (0.01 = 1%). Either bound passing is enough. */
  relative?: number;
  /** Read "50%" as 0.5 rather than 50. Default false. */
  percentAsFraction?: boolean;
}

function expectedNumber(name: string, expected: number | string, sample: string): number {
  const value = typeof expected === "number" ? expected : Number(expected.trim().replace(/,/g, "").replace(/%$/, ""));
  if (Number.isFinite(value)) return value;
  throw new ScorerError(`Scorer "${name}": sample "${sample}" expects "${expected}", which is not a number. Give a number or a numeric string such as "1,234.5".`, { details: { sample, expected } });
}

/** 1 when the answer's final number (see `extractFinalNumber`) equals the expected number within the tolerance. */
export function numeric(options: NumericOptions = {}): PureScorer<unknown, number | string> {
  const name = options.name ?? "numeric";
  const tolerance = options.tolerance ?? 1e-6;
  const relative = options.relative;
  if (!(tolerance >= 0) || (relative !== undefined && !(relative >= 0))) {
    throw new ScorerError(`Scorer "${name}": tolerance and relative must be numbers ≥ 0 (got ${tolerance} and ${relative}).`, { details: { tolerance, relative } });
  }
  const within = `within ${tolerance}${relative === undefined ? "" : ` or ${relative * 100}%`}`;
  return {
    name,
    description: `1 = the final number in the answer matches the expected number ${within}`,
    score({ sample, output }) {
      const expected = expectedNumber(name, expectedOf(name, sample), sample.id);
      const text = options.pick ? options.pick(output) : output.text;
      const found = extractFinalNumber(text, options);
      if (!found) return { score: 0, reason: `No number found in "${clip(text)}"; expected ${expected}.`, details: { expected } };
      const difference = Math.abs(found.value - expected);
      const pass = difference <= tolerance || (relative !== undefined && difference <= relative * Math.abs(expected));
      const read = `Extracted ${found.value} from "${found.written}" (${found.via})`;
      return {
        score: pass ? 1 : 0,
        reason: pass ? `${read}, which matches ${expected} ${within}.` : `${read}; expected ${expected} (off by ${Number(difference.toPrecision(6))}).`,
        details: { extracted: found.value, written: found.written, via: found.via, expected, difference },
      };
    },
  };
}
