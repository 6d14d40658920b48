import { readFileSync } from "node:fs";
import { z } from "zod";
import type { toStored } from "../resilience/cache/response-cache.ts";
import { CassetteFormatError } from "./errors.ts";

/** The cassette file format this Conclave writes and reads. Bump it, and add a `vN-*.json` fixture, whenever the format changes. */
export const CASSETTE_VERSION = 1;

/** What the run was; informational, shown when a replay drifts or finishes early. */
export interface CassetteMeta {
  graph?: string;
  threadId?: string;
  model?: { provider: string; name: string; offline: boolean };
  task?: unknown;
  conclaveVersion?: string;
}

/** A model output as JSON: a stored AIMessage, or `withStructuredOutput`'s `{ raw, parsed }`. */
export type StoredOutput = NonNullable<ReturnType<typeof toStored>>;

export interface ToolOutput {
  content: string;
  status: "success" | "error";
}

export interface ModelEntry {
  kind: "model";
  key: string;
  model: string;
  agent?: string;
  node?: string;
  round?: number;
  summary: string;
  output: StoredOutput;
}

export interface ToolEntry {
  kind: "tool";
  key: string;
  tool: string;
  args: unknown;
  agent?: string;
  node?: string;
  output: ToolOutput;
}

export type CassetteEntry = ModelEntry | ToolEntry;

export interface CassetteFile {
  version: typeof CASSETTE_VERSION;
  createdAt: string;
  meta: CassetteMeta;
  entries: CassetteEntry[];
}

// A model's output is always an AI message, so a stored message of any other type is a broken file.
const storedAiMessage = z.object({
  type: z.literal("ai"),
  data: z.looseObject({ content: z.union([z.string(), z.array(z.unknown())]) }),
});

const storedOutput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("message"), message: storedAiMessage }),
  z.object({ kind: z.literal("structured"), raw: storedAiMessage, parsed: z.unknown() }),
]);

const where = { agent: z.string().optional(), node: z.string().optional() };

const entry = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("model"), key: z.string().min(1), model: z.string(), ...where, round: z.number().int().nonnegative().optional(), summary: z.string(), output: storedOutput }),
  z.object({
    kind: z.literal("tool"),
    key: z.string().min(1),
    tool: z.string().min(1),
    args: z.unknown(),
    ...where,
    output: z.object({ content: z.string(), status: z.enum(["success", "error"]) }),
  }),
]);

const meta = z.looseObject({
  graph: z.string().optional(),
  threadId: z.string().optional(),
  model: z.object({ provider: z.string(), name: z.string(), offline: z.boolean() }).optional(),
  task: z.unknown().optional(),
  conclaveVersion: z.string().optional(),
});

const cassetteV1 = z.object({ version: z.literal(CASSETTE_VERSION), createdAt: z.string(), meta, entries: z.array(entry) });

/** The fix for a cassette that cannot be used: make a new one at the same place. */
const recordAgain = (path: string, lead = "Record") => `${lead} it again with --record ${path}.`;

/** Reads and validates a cassette; every way it can be unusable is a `CassetteFormatError` naming the file and the fix. */
export function readCassetteFile(path: string): CassetteFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new CassetteFormatError(path, missing ? "the file does not exist" : `the file cannot be read (${(error as Error).message})`, `Check the path, or record a cassette there with --record ${path}.`, { cause: error });
  }
  return parseCassette(path, text);
}

/** Validates a cassette's text; `path` only names it in errors. */
export function parseCassette(path: string, text: string): CassetteFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CassetteFormatError(path, `it is not valid JSON (${(error as Error).message})`, `It may have been cut short or edited by hand. ${recordAgain(path)}`, { cause: error });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new CassetteFormatError(path, "it is not a JSON object", `A cassette is an object with version, meta and entries. ${recordAgain(path)}`);
  }
  const version = (json as { version?: unknown }).version;
  if (version === undefined) throw new CassetteFormatError(path, "it has no \"version\" field, so it is not a Conclave cassette", recordAgain(path));
  if (version !== CASSETTE_VERSION) {
    const newer = typeof version === "number" && version > CASSETTE_VERSION;
    const fix = newer ? `It was written by a newer Conclave: upgrade Conclave, or ${recordAgain(path, "record")}` : recordAgain(path);
    throw new CassetteFormatError(path, `it has format version ${JSON.stringify(version)}, and this Conclave reads version ${CASSETTE_VERSION}`, fix, { details: { version, supported: [CASSETTE_VERSION] } });
  }
  const parsed = cassetteV1.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 3).map((issue) => `${formatPath(issue.path) || "(root)"}: ${issue.message}`);
    const more = parsed.error.issues.length > 3 ? ` (and ${parsed.error.issues.length - 3} more)` : "";
    throw new CassetteFormatError(path, `it is not a valid version ${CASSETTE_VERSION} cassette — ${problems.join("; ")}${more}`, `Repair the field, or ${recordAgain(path, "record")}`, {
      details: { issues: parsed.error.issues },
    });
  }
  // The checked input itself, not zod's copy: zod puts known keys first, and a stored message must keep
  // its key order for a replayed output to serialize byte for byte as the recorded one.
  return json as CassetteFile;
}

/** `entries[1].output.message.type` */
function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`)).join("");
}
