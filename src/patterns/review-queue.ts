import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Database as SqliteDatabase, Statement } from "better-sqlite3";
import { openSqlite } from "../resilience/sqlite.ts";
import { ConclaveError } from "../errors.ts";

/** A task no model was confident about, waiting for (or answered by) a person. */
export interface ReviewItem {
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  task: string;
  /** What each model answered, and how confident it was (0..1). */
  candidates: Array<{ model: string; answer: string; confidence: number }>;
  /** Why the task needs review, e.g. the confidences against the threshold. */
  reason: string;
  status: "pending" | "resolved";
  /** The reviewer's answer, once resolved. */
  resolution?: string;
}

/** What a caller supplies to `ReviewQueue.add`; the queue assigns the id, time and status. */
export type NewReviewItem = Omit<ReviewItem, "id" | "createdAt" | "status">;

/** Where answers nobody was confident about wait for a person. */
export interface ReviewQueue {
  add(item: NewReviewItem): Promise<ReviewItem>;
  /** Items in the order they were added, optionally only those with `status`. */
  list(status?: ReviewItem["status"]): Promise<ReviewItem[]>;
  get(id: string): Promise<ReviewItem | undefined>;
  /** Records the reviewer's answer (again, if it was already resolved: the latest answer wins). */
  resolve(id: string, resolution: string): Promise<ReviewItem>;
}

/** `resolve()` was given an id the queue does not hold. */
export class ReviewItemNotFoundError extends ConclaveError {
  override name = "ReviewItemNotFoundError";
  constructor(id: string) {
    super("REVIEW_ITEM_NOT_FOUND", "user", `No review item with id "${id}" in this queue. Check the id against queue.list("pending"); items live in the queue (and database file) they were added to.`, { details: { id } });
  }
}

/** A review queue in memory: for tests, and for processes whose reviewer is in the same process. */
export class MemoryReviewQueue implements ReviewQueue {
  private readonly items = new Map<string, ReviewItem>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async add(item: NewReviewItem): Promise<ReviewItem> {
    const stored: ReviewItem = { ...copy(item), id: randomUUID(), createdAt: this.now(), status: "pending" };
    this.items.set(stored.id, stored);
    return copy(stored);
  }

  async list(status?: ReviewItem["status"]): Promise<ReviewItem[]> {
    // A Map iterates in insertion order, which is the order the items were added.
    return [...this.items.values()].filter((item) => !status || item.status === status).map(copy);
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const item = this.items.get(id);
    return item && copy(item);
  }

  async resolve(id: string, resolution: string): Promise<ReviewItem> {
    const item = this.items.get(id);
    if (!item) throw new ReviewItemNotFoundError(id);
    item.status = "resolved";
    item.resolution = resolution;
    return copy(item);
  }
}

/** The default database file of `SqliteReviewQueue`, relative to `cwd`. */
export const DEFAULT_REVIEW_PATH = ".conclave/review.sqlite";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS review_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    task TEXT NOT NULL,
    candidates TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    resolution TEXT
  );
  CREATE INDEX IF NOT EXISTS review_items_status ON review_items (status, seq);
`;

interface Row {
  id: string;
  created_at: number;
  task: string;
  candidates: string;
  reason: string;
  status: ReviewItem["status"];
  resolution: string | null;
}

const COLUMNS = "id, created_at, task, candidates, reason, status, resolution";

/**
 * A review queue in one SQLite file, so pending reviews survive restarts and a reviewer's tool in
 * another process sees what the runs added. WAL mode lets it read while a run writes.
 */
export class SqliteReviewQueue implements ReviewQueue {
  /** The resolved database file (`:memory:` for a private in-memory database). */
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly now: () => number;
  private readonly statements: {
    insert: Statement<[string, number, string, string, string, string, string | null]>;
    all: Statement<[], Row>;
    byStatus: Statement<[string], Row>;
    get: Statement<[string], Row>;
    resolve: Statement<[string, string]>;
  };

  constructor(options: { path?: string; cwd?: string; now?: () => number } = {}) {
    const file = options.path ?? DEFAULT_REVIEW_PATH;
    this.path = file === ":memory:" ? file : resolve(options.cwd ?? process.cwd(), file);
    this.now = options.now ?? Date.now;
    this.db = openDatabase(this.path);
    this.statements = {
      insert: this.db.prepare(`INSERT INTO review_items (id, created_at, task, candidates, reason, status, resolution) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      all: this.db.prepare(`SELECT ${COLUMNS} FROM review_items ORDER BY seq`),
      byStatus: this.db.prepare(`SELECT ${COLUMNS} FROM review_items WHERE status = ? ORDER BY seq`),
      get: this.db.prepare(`SELECT ${COLUMNS} FROM review_items WHERE id = ?`),
      resolve: this.db.prepare(`UPDATE review_items SET status = 'resolved', resolution = ? WHERE id = ?`),
    };
  }

  async add(item: NewReviewItem): Promise<ReviewItem> {
    const stored: ReviewItem = { task: item.task, candidates: copy(item.candidates), reason: item.reason, ...(item.resolution === undefined ? {} : { resolution: item.resolution }), id: randomUUID(), createdAt: this.now(), status: "pending" };
    this.statements.insert.run(stored.id, stored.createdAt, stored.task, JSON.stringify(stored.candidates), stored.reason, stored.status, stored.resolution ?? null);
    return stored;
  }

  async list(status?: ReviewItem["status"]): Promise<ReviewItem[]> {
    return (status ? this.statements.byStatus.all(status) : this.statements.all.all()).map(fromRow);
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const row = this.statements.get.get(id);
    return row && fromRow(row);
  }

  async resolve(id: string, resolution: string): Promise<ReviewItem> {
    if (this.statements.resolve.run(resolution, id).changes === 0) throw new ReviewItemNotFoundError(id);
    return fromRow(this.statements.get.get(id)!);
  }

  /** Closes the database; the queue cannot be used afterwards. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function fromRow(row: Row): ReviewItem {
  return {
    id: row.id,
    createdAt: row.created_at,
    task: row.task,
    candidates: JSON.parse(row.candidates) as ReviewItem["candidates"],
    reason: row.reason,
    status: row.status,
    ...(row.resolution === null ? {} : { resolution: row.resolution }),
  };
}

// Callers get their own copies, so editing a returned item never edits the queue.
function copy<T>(value: T): T {
  return structuredClone(value);
}

function openDatabase(path: string): SqliteDatabase {
  return openSqlite(path, SCHEMA, { store: "review queue database", instead: "use a MemoryReviewQueue" });
}
