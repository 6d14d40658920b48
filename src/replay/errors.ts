import { ConclaveError } from "../errors.ts";
import type { ConclaveErrorOptions } from "../errors.ts";

/**
 * A cassette file cannot be replayed: missing, not JSON, written by another format version, or
 * shaped wrongly. The message names the file, the problem and the fix.
 */
export class CassetteFormatError extends ConclaveError {
  override name = "CassetteFormatError";
  constructor(path: string, problem: string, fix: string, options: ConclaveErrorOptions = {}) {
    super("CASSETTE_INVALID", "user", `Cannot replay cassette ${path}: ${problem}. ${fix}`, { ...options, details: { path, problem, ...options.details } });
  }
}

/** What a drift error says about one side (the live request or a recording). */
export interface DriftSide {
  kind: "model" | "tool";
  /** The model name, or the tool name. */
  target: string;
  agent?: string;
  node?: string;
  round?: number;
  summary: string;
  args?: unknown;
}

export interface DriftDetails {
  path: string;
  /** 1-based position of the request among all requests of this replay. */
  position: number;
  request: DriftSide & { key: string };
  /** True when the key was recorded but every recording of it has already been replayed. */
  exhausted: boolean;
  closest?: DriftSide & { entry: number; differsAt: string };
}

/**
 * A replayed run asked for a model or tool call that the cassette does not hold: the prompt, the
 * model or the tools changed since it was recorded. Names the request and the closest recording.
 */
export class CassetteDriftError extends ConclaveError {
  override name = "CassetteDriftError";
  /** The same facts as `details`, typed. */
  readonly drift: DriftDetails;
  constructor(drift: DriftDetails) {
    super("CASSETTE_DRIFT", "user", driftMessage(drift), { details: { ...drift } });
    this.drift = drift;
  }
}

function driftMessage({ path, position, request, exhausted, closest }: DriftDetails): string {
  const missing = exhausted ? "every recording of it was already replayed, and the run asks for it once more" : "the cassette has no recording of it";
  const lines = [
    `Replay drifted from cassette ${path} at request ${position} of this replay: ${describeSide(request)}; ${missing}.`,
    `  request:   ${request.summary}`,
  ];
  if (closest) {
    lines.push(`  closest unused recording (entry ${closest.entry} of the file): ${describeSide(closest)}`);
    lines.push(`  recording: ${closest.summary}`);
    lines.push(`  ${closest.differsAt}`);
  } else {
    lines.push(`  No unused ${request.kind} recording is left to compare with.`);
  }
  lines.push(`The prompt, model or tools changed since the cassette was recorded; record it again with --record ${path}.`);
  return lines.join("\n");
}

/** `model call to "gpt-x" by agent "a" at node "n" (round 2)` / `tool call "search" by agent "a" at node "n"`. */
export function describeSide(side: Pick<DriftSide, "kind" | "target" | "agent" | "node" | "round">): string {
  const head = side.kind === "model" ? `model call to "${side.target}"` : `tool call "${side.target}"`;
  const agent = side.agent === undefined ? "" : ` by agent "${side.agent}"`;
  const node = side.node === undefined ? "" : ` at node "${side.node}"`;
  const round = side.round === undefined ? "" : ` (round ${side.round})`;
  return `${head}${agent}${node}${round}`;
}
