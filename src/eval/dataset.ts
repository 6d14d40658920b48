import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConclaveError } from "../errors.ts";
import { seededRandom } from "./stats/index.ts";
import type { Sample } from "./types.ts";

/** A dataset file or row that does not match its schema: which file, which row, what was wrong. */
export class DatasetError extends ConclaveError {
  override name = "DatasetError";
  constructor(message: string, details?: Record<string, unknown>) {
    super("EVAL_DATASET_INVALID", "user", message, details ? { details } : undefined);
  }
}

/** Turns a validated row into a sample; without an `id`, the sample's id is a hash of its input (stable when rows are reordered). */
export type RowMapper<R, I, E> = (row: R, index: number) => Omit<Sample<I, E>, "id"> & { id?: string };

type Source = string | URL;

/** Rows of a JSON Lines file, each validated by `schema`. */
export function fromJsonl<S extends z.ZodType, I, E>(source: Source, schema: S, map: RowMapper<z.output<S>, I, E>): Sample<I, E>[] {
  const file = pathOf(source);
  const rows = readText(file).split("\n").map((line, index) => ({ line, index })).filter(({ line }) => line.trim() !== "");
  return toSamples(file, rows.map(({ line, index }) => parseRow(file, index + 1, () => JSON.parse(line) as unknown)), schema, map);
}

/** Rows of a JSON file holding an array (or `{ [key]: array }` with `key`). */
export function fromJson<S extends z.ZodType, I, E>(source: Source, schema: S, map: RowMapper<z.output<S>, I, E>, options: { key?: string } = {}): Sample<I, E>[] {
  const file = pathOf(source);
  const parsed = parseRow(file, 0, () => JSON.parse(readText(file)) as unknown);
  const rows = options.key ? (parsed as Record<string, unknown>)?.[options.key] : parsed;
  if (!Array.isArray(rows)) throw new DatasetError(`${file} must hold a JSON array${options.key ? ` under "${options.key}"` : ""} of rows.`, { file });
  return toSamples(file, rows, schema, map);
}

/** Rows of a CSV file with a header line (RFC 4180 quoting); every value is a string for `schema` to coerce. */
export function fromCsv<S extends z.ZodType, I, E>(source: Source, schema: S, map: RowMapper<z.output<S>, I, E>): Sample<I, E>[] {
  const file = pathOf(source);
  const [header, ...records] = parseCsv(readText(file));
  if (!header) throw new DatasetError(`${file} is empty: a CSV dataset needs a header line and rows.`, { file });
  const rows = records.filter((record) => record.some((cell) => cell !== "")).map((record, index) => {
    if (record.length !== header.length) throw new DatasetError(`${file} row ${index + 2} has ${record.length} fields but the header has ${header.length}. Quote values that contain commas.`, { file, row: index + 2 });
    return Object.fromEntries(header.map((name, column) => [name, record[column]!]));
  });
  return toSamples(file, rows, schema, map);
}

/** Samples made by code from a seed: the same seed gives the same samples. */
export function generated<I, E>(options: { count: number; seed: number; make: (random: () => number, index: number) => Omit<Sample<I, E>, "id"> & { id?: string } }): Sample<I, E>[] {
  const random = seededRandom(options.seed);
  return withIds(Array.from({ length: options.count }, (_, index) => options.make(random, index)));
}

function toSamples<S extends z.ZodType, I, E>(file: string, rows: unknown[], schema: S, map: RowMapper<z.output<S>, I, E>): Sample<I, E>[] {
  return withIds(
    rows.map((row, index) => {
      const checked = schema.safeParse(row);
      if (!checked.success) throw new DatasetError(`${file} row ${index + 1} does not match the dataset schema: ${z.prettifyError(checked.error).replace(/\n/g, "; ")}.`, { file, row: index + 1 });
      return map(checked.data, index);
    }),
  );
}

/** Gives every sample a stable id: its own, or a hash of its input; repeats get `-2`, `-3`… */
export function withIds<I, E>(samples: Array<Omit<Sample<I, E>, "id"> & { id?: string }>): Sample<I, E>[] {
  const seen = new Map<string, number>();
  return samples.map((sample) => {
    const base = sample.id ?? `s-${createHash("sha256").update(JSON.stringify(sample.input)).digest("hex").slice(0, 12)}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return { ...sample, id: count === 1 ? base : `${base}-${count}` };
  });
}

function pathOf(source: Source): string {
  return source instanceof URL ? fileURLToPath(source) : source;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new DatasetError(`Cannot read the dataset ${file}: ${(error as Error).message}. Check the path (relative paths are resolved from the working folder; use new URL("./data.jsonl", import.meta.url) in a suite).`, { file });
  }
}

function parseRow(file: string, line: number, parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    throw new DatasetError(`${file}${line ? ` line ${line}` : ""} is not valid JSON: ${(error as Error).message}.`, { file, line });
  }
}

/** RFC 4180: fields separated by commas, quoted with `"` (doubled inside), records by CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') (field += '"'), index++;
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === ",") (record.push(field), (field = ""));
    else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[index + 1] === "\n") index++;
      record.push(field);
      records.push(record);
      (record = []), (field = "");
    } else field += char;
  }
  if (field !== "" || record.length) (record.push(field), records.push(record));
  return records;
}
