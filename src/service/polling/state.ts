import { randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { ConclaveError } from "../../errors.ts";

/** What a poller remembers about one source between polls and across restarts. */
export interface PollSourceState {
  /** The last cursor the source gave (incremental fetch); absent before the first page. */
  cursor?: string;
  /** Item id → content hash of the version already submitted. */
  seen: Record<string, string>;
}

/**
 * Where pollers keep their state. A restarted server reading the same store does not submit
 * seen items again. Each source has one writer (its poller); `save` replaces the source's state.
 */
export interface PollStateStore {
  load(source: string): Promise<PollSourceState>;
  save(source: string, state: PollSourceState): Promise<void>;
}

/** The saved state could not be read; the message says which file and what to do. */
export class PollStateError extends ConclaveError {
  override name = "PollStateError";
  constructor(message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super("POLL_STATE_INVALID", "system", message, options);
  }
}

/** State held in this process only: for tests, or when resubmitting after a restart is fine. */
export class MemoryPollStateStore implements PollStateStore {
  private readonly sources = new Map<string, PollSourceState>();

  async load(source: string): Promise<PollSourceState> {
    return copy(this.sources.get(source) ?? { seen: {} });
  }

  async save(source: string, state: PollSourceState): Promise<void> {
    this.sources.set(source, copy(state));
  }
}

const FileSchema = z.object({
  version: z.literal(1),
  sources: z.record(z.string(), z.object({ cursor: z.string().optional(), seen: z.record(z.string(), z.string()) })),
});

/**
 * Every source's state in one JSON file. Each save writes a temporary file and renames it over
 * the old one, so a crash mid-write leaves the previous state, never a torn file. Use one file
 * per process: two processes writing the same file would overwrite each other's sources (their
 * duplicate submissions would still be stopped by the queue's idempotency keys).
 */
export class FilePollStateStore implements PollStateStore {
  private cache: Promise<z.output<typeof FileSchema>> | undefined;
  // Saves from several pollers go one after another, each writing the whole file.
  private writes: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(source: string): Promise<PollSourceState> {
    const file = await this.read();
    return copy(file.sources[source] ?? { seen: {} });
  }

  async save(source: string, state: PollSourceState): Promise<void> {
    const write = this.writes.then(async () => {
      const file = await this.read();
      file.sources[source] = copy(state);
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
      try {
        await writeFile(temporary, JSON.stringify(file));
        await rename(temporary, this.path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    });
    // A failed write must not stop later ones; the caller still sees this one's error.
    this.writes = write.catch(() => undefined);
    return write;
  }

  private read(): Promise<z.output<typeof FileSchema>> {
    this.cache ??= this.readFile().catch((error: unknown) => {
      this.cache = undefined; // a read error (e.g. a file being repaired) is retried next time
      throw error;
    });
    return this.cache;
  }

  private async readFile(): Promise<z.output<typeof FileSchema>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, sources: {} };
      throw new PollStateError(`Cannot read the poll state file ${this.path}: ${(error as Error).message}. Check its permissions.`, { cause: error });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new PollStateError(`The poll state file ${this.path} is not valid JSON. Delete it to start over; items will be submitted again, and the queue's idempotency keys stop versions already run from running twice.`, { cause: error });
    }
    const parsed = FileSchema.safeParse(json);
    if (!parsed.success) {
      throw new PollStateError(`The poll state file ${this.path} is not a version 1 poll state (${parsed.error.issues[0]?.message ?? "unexpected shape"}). Delete it to start over, or point the poller at another file.`, { details: { issues: parsed.error.issues } });
    }
    return parsed.data;
  }
}

function copy(state: PollSourceState): PollSourceState {
  return { ...(state.cursor === undefined ? {} : { cursor: state.cursor }), seen: { ...state.seen } };
}
