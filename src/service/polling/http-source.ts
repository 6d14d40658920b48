import { createHash } from "node:crypto";
import type { HttpJsonSourceConfig } from "./config.ts";
import { PollFetchError } from "./errors.ts";
import type { PollSource, SourceBatch } from "./types.ts";

/**
 * An HTTP endpoint answering JSON. Each element of the item array is an item: its id is
 * `idField`, its input `inputField` (a field, or a template of `{{field}}`s), its hash the
 * sha256 of that input, so a change to fields the run never sees does not start a run.
 *
 * With `cursorParam`, the last cursor is sent as that query parameter and each answer is taken
 * as only the new items (incremental); the next cursor is `cursorField` of the answer, or the
 * largest item id. Without it, each answer is taken as the whole feed.
 */
export function httpJsonSource(config: HttpJsonSourceConfig): PollSource {
  const base = new URL(config.url);
  // Query strings often carry tokens: messages name the endpoint without them.
  const shown = `${base.origin}${base.pathname}`;
  const fail = (message: string, cause?: unknown) => new PollFetchError(config.name, message, { details: { url: shown }, cause });

  async function request(cursor: string | undefined, signal: AbortSignal): Promise<unknown> {
    const url = new URL(base);
    if (config.cursorParam !== undefined && cursor !== undefined) url.searchParams.set(config.cursorParam, cursor);
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: "application/json", ...config.headers }, signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]) });
    } catch (error) {
      if (signal.aborted) throw error;
      if ((error as Error).name === "TimeoutError") throw fail(`${shown} did not answer within ${config.timeoutMs} ms; check the endpoint or raise timeoutMs.`, error);
      const reason = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw fail(`cannot reach ${shown} (${reason}); check the URL and that the server is up.`, error);
    }
    const text = await response.text();
    if (!response.ok) throw fail(`${shown} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}: ${snippet(text)}`);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw fail(`${shown} answered invalid JSON (${(error as Error).message}), starting: ${snippet(text)}`, error);
    }
  }

  function itemsOf(body: unknown): unknown[] {
    if (config.itemsPath !== undefined) {
      const found = valueAt(body, config.itemsPath);
      if (Array.isArray(found)) return found;
      throw fail(`the answer has no array at itemsPath "${config.itemsPath}" (found ${describe(found)}); set itemsPath to where the items are.`);
    }
    if (Array.isArray(body)) return body;
    const items = valueAt(body, "items");
    if (Array.isArray(items)) return items;
    throw fail(`the answer is neither an array nor an object with an "items" array (found ${describe(body)}); set itemsPath to where the items are, e.g. "data.results".`);
  }

  return {
    paged: config.cursorParam !== undefined,
    async fetch({ cursor, signal }): Promise<SourceBatch> {
      const body = await request(cursor, signal);
      const batch: SourceBatch = { items: [], failures: [], pending: [], snapshot: config.cursorParam === undefined };
      const ids: string[] = [];
      itemsOf(body).forEach((item, index) => {
        const id = valueAt(item, config.idField);
        if (!((typeof id === "string" && id !== "") || (typeof id === "number" && Number.isFinite(id)))) {
          batch.failures.push({ itemId: `#${index}`, reason: `item ${index} has no usable "${config.idField}" (found ${describe(id)}); set idField to the field that identifies items` });
          return;
        }
        const itemId = String(id);
        ids.push(itemId);
        const input = inputOf(item, config.inputField);
        if (input === undefined) {
          batch.failures.push({ itemId, reason: `item ${itemId} has no "${config.inputField}"; set inputField to the field holding the text, or a template such as "{{title}}\\n\\n{{body}}"` });
          return;
        }
        batch.items.push({ itemId, hash: createHash("sha256").update(input).digest("hex"), input });
      });
      const nextCursor = config.cursorField !== undefined ? cursorValue(valueAt(body, config.cursorField)) : config.cursorParam !== undefined ? largest(ids) : undefined;
      if (nextCursor !== undefined) batch.nextCursor = nextCursor;
      return batch;
    },
  };
}

/** The value at a dotted path ("data.items"), or undefined when any step is missing. */
function valueAt(value: unknown, path: string): unknown {
  let node = value;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A field's text, or a template's with each `{{path}}` filled; undefined when a field is missing. */
function inputOf(item: unknown, field: string): string | undefined {
  const text = (value: unknown) => (value === undefined || value === null ? undefined : typeof value === "string" ? value : JSON.stringify(value));
  if (!field.includes("{{")) return text(valueAt(item, field));
  let missing = false;
  const filled = field.replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (_, path: string) => {
    const value = text(valueAt(item, path));
    if (value === undefined) missing = true;
    return value ?? "";
  });
  return missing ? undefined : filled;
}

function cursorValue(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined; // null / absent: the end of the feed, keep the cursor we have
}

/** The largest id: numerically when every id is a number, else by string order. */
function largest(ids: string[]): string | undefined {
  if (ids.length === 0) return undefined;
  const numeric = ids.every((id) => /^-?\d+(\.\d+)?$/.test(id));
  return ids.reduce((best, id) => ((numeric ? Number(id) > Number(best) : id > best) ? id : best));
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? `an object with keys ${Object.keys(value).slice(0, 5).join(", ") || "(none)"}` : `a ${typeof value}`;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat === "" ? "(empty body)" : flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
