import { z } from "zod";
import { PollerConfigError } from "./errors.ts";

// The name ends up in idempotency keys and state files, so it stays short and free of separators.
const name = z
  .string({ error: 'is required: a short name such as "docs" (letters, digits, "-", "_", ".")' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'must be 1-64 letters, digits, "-", "_" or "." (no ":" or spaces), e.g. "docs"' });

const intervalMs = z
  .number({ error: "must be a number of milliseconds, e.g. 30000" })
  .int({ error: "must be a whole number of milliseconds" })
  .min(200, { error: "must be at least 200 ms; polling faster only loads the source" })
  .default(30_000);

const graph = z.string().min(1, { error: "must name a registered graph, or be left out for the service's default" }).optional();

const dottedPath = (example: string) => z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, { error: `must be a dotted path such as "${example}"` });

/** A folder whose matching files become runs: new and edited files (by content hash) are submitted. */
export const FolderSourceSchema = z.strictObject({
  type: z.literal("folder"),
  name,
  path: z.string({ error: "must be the folder to watch, as a path string" }).min(1, { error: "must be the folder to watch, as a path string" }),
  /** File name endings to pick up, case-insensitive; other files and dot-files are ignored. */
  suffixes: z
    .array(z.string().min(1, { error: "must not be empty; use endings such as \".md\"" }), { error: 'must be a list of file endings such as [".md", ".txt"]' })
    .min(1, { error: 'must list at least one file ending such as ".md"' })
    .default([".md", ".txt"]),
  /** Prefix the run input with `File: <name>` so the graph knows which document it reads. */
  includeFileName: z.boolean({ error: "must be true or false" }).default(true),
  /** Files larger than this are reported as failed instead of read (default 1 MB). */
  maxBytes: z.number().int().positive({ error: "must be a positive number of bytes" }).default(1_000_000),
  /**
   * Files modified less than this long ago are left for a later poll, so a file still being
   * written is not submitted half-done (and again once complete).
   */
  minAgeMs: z.number().int().nonnegative({ error: "must be 0 or more milliseconds" }).default(1_000),
  graph,
  intervalMs,
});

/** An HTTP endpoint answering JSON with a list of items; new and changed items are submitted. */
export const HttpJsonSourceSchema = z.strictObject({
  type: z.literal("http-json"),
  name,
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. "https://example.com/feed.json"' }),
  /** Where the item array is in the response; by default the response itself or its `items`. */
  itemsPath: dottedPath("data.items").optional(),
  /** The field (dotted path) that identifies an item; a changed item keeps its id. */
  idField: dottedPath("id").default("id"),
  /** The field holding the run input, or a template such as "{{title}}\n\n{{body}}". */
  inputField: z.string().min(1, { error: 'must name a field such as "text" or be a template such as "{{title}}: {{body}}"' }).default("text"),
  /** Query parameter that carries the last cursor, so the endpoint returns only newer items. */
  cursorParam: z.string().min(1, { error: 'must be a query parameter name such as "since"' }).optional(),
  /** Response field (dotted path) with the next cursor; without it the largest item id is the cursor. */
  cursorField: dottedPath("next_cursor").optional(),
  headers: z.record(z.string(), z.string({ error: "header values must be strings" }), { error: 'must map header names to string values, e.g. { "authorization": "Bearer ..." }' }).optional(),
  /** Pages fetched in one poll while the cursor keeps moving (a backlog drains without waiting an interval per page). */
  maxPagesPerPoll: z.number().int().min(1, { error: "must be at least 1" }).max(100, { error: "must be at most 100" }).default(10),
  timeoutMs: z.number().int().min(100, { error: "must be at least 100 ms" }).default(10_000),
  graph,
  intervalMs,
});

export const PollSourceConfigSchema = z.discriminatedUnion("type", [FolderSourceSchema, HttpJsonSourceSchema], {
  error: 'must be "folder" (a folder of documents) or "http-json" (a JSON feed over HTTP)',
});

/** A parsed source with every default filled in. */
export type PollSourceConfig = z.output<typeof PollSourceConfigSchema>;
export type FolderSourceConfig = z.output<typeof FolderSourceSchema>;
export type HttpJsonSourceConfig = z.output<typeof HttpJsonSourceSchema>;
/** What a caller writes: defaults may be left out. */
export type PollSourceConfigInput = z.input<typeof PollSourceConfigSchema>;

/**
 * Validates one source. `where` prefixes field paths in the message (e.g. "polling.sources[2]").
 * @throws PollerConfigError naming each bad field and what it must be.
 */
export function parsePollSourceConfig(input: unknown, where = "source"): PollSourceConfig {
  const parsed = PollSourceConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const label = typeof input === "object" && input !== null && typeof (input as { name?: unknown }).name === "string" ? ` "${(input as { name: string }).name}"` : "";
  const problems = parsed.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => `${[where, ...issue.path, key].join(".")}: unknown field "${key}" (check its spelling)`);
    return [`${[where, ...issue.path].join(".")}: ${issue.message}`];
  });
  throw new PollerConfigError(`Invalid poll source${label}: ${problems.join("; ")}.`, { issues: parsed.error.issues });
}

/**
 * Validates a list of sources; names must be unique because they key the saved state.
 * @throws PollerConfigError
 */
export function parsePollSourceConfigs(inputs: unknown, where = "sources"): PollSourceConfig[] {
  if (!Array.isArray(inputs)) throw new PollerConfigError(`${where} must be a list of poll sources, e.g. [{ "type": "folder", "name": "docs", "path": "./inbox" }].`);
  const configs = inputs.map((input, index) => parsePollSourceConfig(input, `${where}[${index}]`));
  const names = new Set<string>();
  for (const config of configs) {
    if (names.has(config.name)) throw new PollerConfigError(`Two poll sources are named "${config.name}"; give each a different name, because the name keys its saved state and its runs' idempotency keys.`, { name: config.name });
    names.add(config.name);
  }
  return configs;
}
