import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConclaveError } from "../errors.ts";
import { canonicalHash } from "../resilience/cache/keys.ts";
import { fromStored, toStored } from "../resilience/cache/response-cache.ts";
import { CassetteDriftError, describeSide } from "./errors.ts";
import type { DriftSide } from "./errors.ts";
import { CASSETTE_VERSION, parseCassette, readCassetteFile } from "./format.ts";
import type { CassetteEntry, CassetteFile, CassetteMeta, StoredOutput, ToolOutput } from "./format.ts";

export { CASSETTE_VERSION } from "./format.ts";
export type { CassetteMeta, ToolOutput } from "./format.ts";

/** One model call as the cassette sees it. */
export interface ModelRequestInfo {
  /** From `modelRequestKey`: equal keys are the same request. */
  key: string;
  model: string;
  agent?: string;
  node?: string;
  round?: number;
  /** A short human summary (see `summarizeRequest`): shown when a replay drifts. */
  summary: string;
}

/** One tool call as the cassette sees it; keyed by `toolRequestKey(tool, args)`. */
export interface ToolRequestInfo {
  tool: string;
  args: unknown;
  agent?: string;
  node?: string;
}

export interface RecorderOptions {
  /** Applied to the serialized file text before it is written (e.g. to remove API keys or personal data). */
  redact?: (text: string) => string;
}

/** The key of a tool call: the tool's name and its arguments, canonically hashed. */
export function toolRequestKey(tool: string, args: unknown): string {
  return canonicalHash({ tool, args });
}

/**
 * Records a run's model and tool calls to a file, or replays them from it without calling anything.
 * In replay the n-th request with a key gets the n-th recording with that key, so parallel branches
 * may interleave different requests freely while repeated equal requests keep their order.
 */
export class Cassette {
  readonly mode: "record" | "replay";
  readonly meta: CassetteMeta;
  readonly path: string;
  private readonly createdAt: string;
  private readonly redact: ((text: string) => string) | undefined;
  /** Record: slots in call order, empty while a call runs or after it failed. Replay: the file's entries. */
  private readonly entries: Array<CassetteEntry | undefined>;
  /** Replay: entry indexes not yet replayed, per `kind:key`, in file order. */
  private readonly queues = new Map<string, number[]>();
  private readonly used = new Set<number>();
  private requests = 0;

  private constructor(mode: "record" | "replay", path: string, file: CassetteFile, options: RecorderOptions = {}) {
    this.mode = mode;
    this.path = path;
    this.meta = file.meta;
    this.createdAt = file.createdAt;
    this.redact = options.redact;
    this.entries = [...file.entries];
    file.entries.forEach((entry, index) => {
      const queue = this.queues.get(`${entry.kind}:${entry.key}`);
      if (queue) queue.push(index);
      else this.queues.set(`${entry.kind}:${entry.key}`, [index]);
    });
  }

  /** A cassette that records to `path` when `save()` is called. */
  static recorder(path: string, meta: CassetteMeta = {}, options: RecorderOptions = {}): Cassette {
    return new Cassette("record", path, { version: CASSETTE_VERSION, createdAt: new Date().toISOString(), meta, entries: [] }, options);
  }

  /** A cassette that replays `path`; throws `CassetteFormatError` if the file is missing, not JSON, of another version or shaped wrongly. */
  static load(path: string): Cassette {
    return new Cassette("replay", path, readCassetteFile(path));
  }

  /**
   * Record: calls `call`, keeps its output, and returns it as a replay will (rebuilt from its JSON form).
   * Replay: returns the recorded output without calling; `CassetteDriftError` if there is none. */
  async model<T>(request: ModelRequestInfo, call: () => Promise<T>): Promise<T> {
    const { key, model, agent, node, round, summary } = request;
    if (this.mode === "replay") {
      const entry = this.take("model", key, { kind: "model", target: model, agent, node, round, summary });
      return fromStored((entry as Extract<CassetteEntry, { kind: "model" }>).output) as T;
    }
    const slot = this.entries.push(undefined) - 1;
    const output = await call();
    const stored = toStored(output);
    if (stored === undefined) {
      throw new ConclaveError("CASSETTE_UNRECORDABLE", "system", `Cannot record the output of the model call to "${model}": it is neither an AIMessage nor { raw, parsed } with an AIMessage raw. Record the model before any output parser runs.`, {
        details: { model, agent, node, key },
      });
    }
    // A copy, so later changes to the message do not reach the file; and the run gets back what a
    // replay will give it (same fields, same key order), so record and replay outputs are byte-identical.
    const copy = JSON.parse(JSON.stringify(stored)) as StoredOutput;
    this.entries[slot] = { kind: "model", key, model, ...defined({ agent, node, round }), summary, output: copy };
    return fromStored(JSON.parse(JSON.stringify(copy)) as StoredOutput) as T;
  }

  /** The same for a tool call, keyed by `toolRequestKey(tool, args)`. A tool that throws is not recorded. */
  async tool(request: ToolRequestInfo, call: () => Promise<ToolOutput>): Promise<ToolOutput> {
    const { tool, args, agent, node } = request;
    const key = toolRequestKey(tool, args);
    if (this.mode === "replay") {
      const entry = this.take("tool", key, { kind: "tool", target: tool, agent, node, args, summary: toolSummary(args) });
      const { content, status } = (entry as Extract<CassetteEntry, { kind: "tool" }>).output;
      return { content, status };
    }
    const slot = this.entries.push(undefined) - 1;
    const { content, status } = await call();
    this.entries[slot] = { kind: "tool", key, tool, args, ...defined({ agent, node }), output: { content, status } };
    return { content, status };
  }

  /** Record: writes the calls finished so far, atomically (temp file + rename), as pretty JSON with `redact` applied. Replay: does nothing. */
  save(): void {
    if (this.mode === "replay") return;
    const file: CassetteFile = { version: CASSETTE_VERSION, createdAt: this.createdAt, meta: this.meta, entries: this.entries.filter((entry) => entry !== undefined) };
    let text = `${JSON.stringify(file, null, 2)}\n`;
    if (this.redact) text = this.redact(text);
    // A redaction that breaks the JSON would only surface at replay time, far from its cause.
    parseCassette(`${this.path} (after redact)`, text);
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      writeFileSync(temporary, text, { encoding: "utf8", mode: 0o600 });
      renameSync(temporary, this.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new ConclaveError("CASSETTE_WRITE_FAILED", "system", `Cannot write cassette ${this.path}: ${(error as Error).message}. Check that the folder is writable.`, { details: { path: this.path }, cause: error });
    }
  }

  /** Replay: recordings never replayed (the run stopped early, or drifted), in file order. Record: empty. */
  unused(): Array<{ kind: "model" | "tool"; summary: string }> {
    if (this.mode === "record") return [];
    return this.entries.flatMap((entry, index) => (entry === undefined || this.used.has(index) ? [] : [{ kind: entry.kind, summary: `${describeSide(sideOf(entry))}: ${sideOf(entry).summary}` }]));
  }

  private take(kind: "model" | "tool", key: string, request: DriftSide): CassetteEntry {
    this.requests += 1;
    const queue = this.queues.get(`${kind}:${key}`);
    const index = queue?.shift();
    if (index === undefined) throw this.drift(key, request, queue !== undefined);
    this.used.add(index);
    return this.entries[index]!;
  }

  private drift(key: string, request: DriftSide, exhausted: boolean): CassetteDriftError {
    const candidates = this.entries.flatMap((entry, index) => (entry?.kind === request.kind && !this.used.has(index) ? [{ entry: index, side: sideOf(entry) }] : []));
    const score = ({ side }: { side: DriftSide }) => (side.target === request.target ? 4 : 0) + (side.agent === request.agent ? 2 : 0) + (side.node === request.node ? 1 : 0);
    // Highest score first; among equals the earliest, which is what a replay in order would have used next.
    const best = candidates.reduce<(typeof candidates)[number] | undefined>((top, candidate) => (top === undefined || score(candidate) > score(top) ? candidate : top), undefined);
    const closest = best && { ...best.side, entry: best.entry + 1, differsAt: differsAt(request, best.side) };
    return new CassetteDriftError({ path: this.path, position: this.requests, request: { ...request, key }, exhausted, ...(closest ? { closest } : {}) });
  }
}

function sideOf(entry: CassetteEntry): DriftSide {
  if (entry.kind === "model") return { kind: "model", target: entry.model, agent: entry.agent, node: entry.node, round: entry.round, summary: entry.summary };
  return { kind: "tool", target: entry.tool, agent: entry.agent, node: entry.node, args: entry.args, summary: toolSummary(entry.args) };
}

function toolSummary(args: unknown): string {
  return `args ${clip(JSON.stringify(args) ?? "undefined", 200)}`;
}

/** A short hint of where the live request and a recording part ways. */
export function differsAt(request: DriftSide, recording: DriftSide): string {
  const parts: string[] = [];
  if (request.target !== recording.target) parts.push(`${request.kind === "model" ? "model" : "tool"} "${request.target}" vs "${recording.target}"`);
  if (request.kind === "tool") {
    const [live, recorded] = [JSON.stringify(request.args) ?? "undefined", JSON.stringify(recording.args) ?? "undefined"];
    parts.push(live === recorded ? "args are equal" : `args differ: ${clip(live, 120)} vs recorded ${clip(recorded, 120)}`);
    return `differs at: ${parts.join("; ")}`;
  }
  const [a, b] = [request.summary, recording.summary];
  let offset = 0;
  while (offset < a.length && offset < b.length && a[offset] === b[offset]) offset += 1;
  if (a === b) parts.push("the summaries are equal, so the change is earlier in the conversation, in the tools or in the call parameters");
  else parts.push(`summaries differ at character ${offset}: ${JSON.stringify(around(a, offset))} vs recorded ${JSON.stringify(around(b, offset))}`);
  return `differs at: ${parts.join("; ")}`;
}

function around(text: string, offset: number): string {
  const start = Math.max(0, offset - 15);
  return `${start > 0 ? "…" : ""}${text.slice(start, offset + 25)}${offset + 25 < text.length ? "…" : ""}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
