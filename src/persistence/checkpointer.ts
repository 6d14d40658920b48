import { resolve } from "node:path";
import type { BaseCheckpointSaver, SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { MemorySaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import pg from "pg";
import { ConfigError } from "../errors.ts";
import { openSqlite } from "../resilience/sqlite.ts";

/** Where checkpoints live: a SQLite file (CLI and scripts), PostgreSQL (services) or memory (tests). */
export interface CheckpointerSettings {
  backend: "sqlite" | "postgres" | "memory";
  /** SQLite file, relative to `cwd` (default `.conclave/checkpoints.sqlite`). */
  path?: string;
  /** PostgreSQL connection string (default: `DATABASE_URL`). */
  url?: string;
}

/** An opened checkpointer, what it is for messages, and how to let it go. */
export interface Checkpointer {
  saver: BaseCheckpointSaver;
  backend: CheckpointerSettings["backend"];
  /** The file or the server (without password), for messages. */
  location: string;
  close(): Promise<void>;
}

export const DEFAULT_CHECKPOINT_FILE = ".conclave/checkpoints.sqlite";

/**
 * Opens the configured LangGraph checkpointer. `serde` wraps what is written (Conclave passes a
 * redacting serializer so secrets never reach a checkpoint). A store that cannot be opened fails
 * here with where it is and what to do, not on the first step of a run.
 */
export async function createCheckpointer(settings: CheckpointerSettings, options: { cwd?: string; env?: NodeJS.ProcessEnv; serde?: SerializerProtocol } = {}): Promise<Checkpointer> {
  if (settings.backend === "memory") {
    const saver = new MemorySaver(options.serde);
    return { saver, backend: "memory", location: "memory", close: async () => undefined };
  }
  if (settings.backend === "sqlite") {
    const path = resolve(options.cwd ?? process.cwd(), settings.path ?? DEFAULT_CHECKPOINT_FILE);
    // SqliteSaver creates its own tables; WAL lets `conclave runs` read while a run writes.
    const db = openSqlite(path, "", { store: "checkpoint store", instead: 'set checkpoint.backend to "memory" (runs are then not resumable)' });
    const saver = new SqliteSaver(db, options.serde);
    return { saver, backend: "sqlite", location: path, close: async () => void (db.open && db.close()) };
  }
  const url = settings.url ?? (options.env ?? process.env).DATABASE_URL;
  if (!url) throw new ConfigError('checkpoint.backend is "postgres" but no connection string is set. Set DATABASE_URL (e.g. postgres://user@127.0.0.1:5432/conclave) or checkpoint.url.');
  const location = withoutPassword(url);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const saver = new PostgresSaver(pool, options.serde);
  try {
    await saver.setup();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new ConfigError(`Cannot open the PostgreSQL checkpoint store at ${location}: ${(error as Error).message}. Check that the server is running and DATABASE_URL is right, or use checkpoint.backend "sqlite".`, { cause: error, details: { location } });
  }
  return { saver, backend: "postgres", location, close: () => pool.end() };
}

/** A connection string safe to print. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable connection string)";
  }
}
