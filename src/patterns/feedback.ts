import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { summarize } from "../eval/stats/summary.ts";
import { openSqlite } from "../resilience/sqlite.ts";
import type { SqliteDatabase } from "../resilience/sqlite.ts";
import { routeModel } from "./router.ts";
import type { RouteCandidate, RouteDecision, RouterOptions } from "./router.ts";

/** One rating of one run, with what produced it. A/B tests store their outcomes here too (with `experiment`, `arm` and `key`). */
export interface FeedbackEntry {
  id: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** The rated run (`RunResult.runId`). */
  runId: string;
  /** Any scale, as long as one store keeps one (1–5 stars, 0/1 thumbs, a score). Higher is better. */
  rating: number;
  /** The model that answered (`RunResult.model.name`, or a router candidate's name). */
  model?: string;
  /** The prompt version that produced it (`prompt.id` of `definePrompt`). */
  prompt?: string;
  experiment?: string;
  arm?: string;
  /** The A/B assignment key (a user or session id). */
  key?: string;
  comment?: string;
}

export type NewFeedback = Omit<FeedbackEntry, "id" | "createdAt">;
export type FeedbackFilter = Partial<Pick<FeedbackEntry, "runId" | "model" | "prompt" | "experiment" | "arm" | "key">>;

/** Ratings of one model, prompt or arm: count, mean, and a seeded bootstrap interval of the mean (`summarize` from the eval stats). */
export interface FeedbackAggregate {
  name: string;
  count: number;
  mean: number;
  stderr: number;
  ci: [number, number];
}

/** What `preferredModel` chose: the router's decision over the candidates feedback did not rule out. */
export interface FeedbackRouteDecision extends RouteDecision {
  /** Candidates left out for their ratings, and why. */
  excluded: Array<{ name: string; reason: string }>;
  /** The candidates' ratings, best first. */
  ratings: FeedbackAggregate[];
}

export interface PreferredModelOptions extends RouterOptions {
  /** Ratings a model needs before feedback may rule it out (default 3). */
  minRatings?: number;
  /** Rule out models whose mean rating is below this, on the store's scale. */
  minRating?: number;
  /** Confidence level of the intervals (default 0.95). */
  level?: number;
}

/** Where ratings are kept: `createFeedbackStore()` is one SQLite database, in memory unless given a path. */
export interface FeedbackStore {
  /** The database file, or `:memory:`. */
  readonly path: string;
  rate(entry: NewFeedback): FeedbackEntry;
  /** Entries in the order they were added, optionally only those matching every field of `filter`. */
  list(filter?: FeedbackFilter): FeedbackEntry[];
  /** Ratings grouped by model, prompt or arm (entries without that field are left out), best mean first. */
  aggregate(by: "model" | "prompt" | "arm", filter?: FeedbackFilter, level?: number): FeedbackAggregate[];
  /**
   * The router's choice (`routeModel`) among the candidates feedback did not rule out: a candidate
   * with at least `minRatings` ratings is left out when its interval lies wholly below the
   * best-rated candidate's, or its mean is below `minRating`. Remaining candidates are passed best
   * rated first, so among equally cheap ones the better rated wins. The reason says what feedback did.
   */
  preferredModel(task: string, options: PreferredModelOptions): FeedbackRouteDecision;
  close(): void;
}

const NewFeedbackSchema = z.object({
  runId: z.string().min(1, "say which run is rated (RunResult.runId)"),
  rating: z.number().finite(),
  model: z.string().optional(),
  prompt: z.string().optional(),
  experiment: z.string().optional(),
  arm: z.string().optional(),
  key: z.string().optional(),
  comment: z.string().optional(),
});

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
    run_id TEXT NOT NULL, rating REAL NOT NULL, model TEXT, prompt TEXT, experiment TEXT, arm TEXT, key TEXT, comment TEXT
  );
  CREATE INDEX IF NOT EXISTS feedback_experiment ON feedback (experiment, arm);
  CREATE INDEX IF NOT EXISTS feedback_model ON feedback (model, rating);
  CREATE INDEX IF NOT EXISTS feedback_prompt ON feedback (prompt, rating);
`;
/** Interval cache entries kept at most; past this the cache starts over (a bound, not a policy). */
const MAX_CACHED_INTERVALS = 10_000;
const COLUMNS = { runId: "run_id", model: "model", prompt: "prompt", experiment: "experiment", arm: "arm", key: "key" } as const;

interface Row {
  id: string;
  created_at: number;
  run_id: string;
  rating: number;
  model: string | null;
  prompt: string | null;
  experiment: string | null;
  arm: string | null;
  key: string | null;
  comment: string | null;
}

/**
 * A feedback store: ratings per run with the model and prompt version that produced them,
 * aggregated per model, prompt or A/B arm, and fed to the model router (`preferredModel`). One
 * SQLite table (via `openSqlite`), in memory by default; give `path` to keep ratings across
 * processes (WAL mode lets a rating UI write while runs read).
 *
 * @example
 * const feedback = createFeedbackStore({ path: ".conclave/feedback.sqlite" });
 * feedback.rate({ runId: result.runId, rating: 4, model: result.model.name, prompt: classify.id });
 * feedback.aggregate("prompt"); // [{ name: "classify@2", count: 31, mean: 4.2, ci: [3.9, 4.5], … }, …]
 * const { candidate, reason } = feedback.preferredModel(task, { candidates: [small, large] });
 */
export function createFeedbackStore(options: { path?: string; cwd?: string; now?: () => number } = {}): FeedbackStore {
  const file = options.path ?? ":memory:";
  const path = file === ":memory:" ? file : resolve(options.cwd ?? process.cwd(), file);
  const now = options.now ?? Date.now;
  const db: SqliteDatabase = openSqlite(path, SCHEMA, { store: "feedback store", instead: "use createFeedbackStore() without a path (in memory)" });
  const insert = db.prepare(`INSERT INTO feedback (id, created_at, run_id, rating, model, prompt, experiment, arm, key, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);

  const conditions = (filter: FeedbackFilter = {}) => {
    const fields = Object.entries(filter).filter(([field, value]) => value !== undefined && field in COLUMNS) as Array<[keyof typeof COLUMNS, string]>;
    return { clauses: fields.map(([field]) => `${COLUMNS[field]} = ?`), params: fields.map(([, value]) => value), key: JSON.stringify(fields.sort(([a], [b]) => a.localeCompare(b))) };
  };

  const list = (filter: FeedbackFilter = {}): FeedbackEntry[] => {
    const { clauses, params } = conditions(filter);
    const where = clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
    return (db.prepare(`SELECT * FROM feedback${where} ORDER BY seq`).all(...params) as Row[]).map(fromRow);
  };

  // A group's bootstrap interval, keyed by grouping, filter, level and group name. SQL's count and
  // last seq per group say whether ratings arrived since (from this or another process sharing
  // the file); only then is the group's interval recomputed, so repeated routing stays cheap.
  const intervals = new Map<string, { count: number; lastSeq: number; stderr: number; ci: [number, number] }>();

  const aggregateGroups = (by: "model" | "prompt" | "arm", filter: FeedbackFilter | undefined, level: number | undefined, only?: readonly string[]): FeedbackAggregate[] => {
    const column = COLUMNS[by];
    const { clauses, params, key } = conditions(filter);
    if (only?.length === 0) return [];
    const restrict = only ? [`${column} IN (${only.map(() => "?").join(", ")})`] : [];
    const where = [`${column} IS NOT NULL`, ...clauses, ...restrict].join(" AND ");
    // Counts and means come from SQL (GROUP BY over an index), never by copying rows into JS.
    const groups = db.prepare(`SELECT ${column} AS name, COUNT(*) AS count, AVG(rating) AS mean, MAX(seq) AS lastSeq FROM feedback WHERE ${where} GROUP BY ${column}`).all(...params, ...(only ?? [])) as Array<{ name: string; count: number; mean: number; lastSeq: number }>;
    return groups
      .map((group) => {
        const cacheKey = JSON.stringify([by, key, level ?? null, group.name]);
        let cached = intervals.get(cacheKey);
        if (!cached || cached.count !== group.count || cached.lastSeq !== group.lastSeq) {
          const ratings = db.prepare(`SELECT rating FROM feedback WHERE ${[`${column} = ?`, ...clauses].join(" AND ")} ORDER BY seq`).pluck().all(group.name, ...params) as number[];
          const { stderr, ci } = summarize(ratings, level === undefined ? {} : { level });
          if (intervals.size >= MAX_CACHED_INTERVALS) intervals.clear();
          cached = { count: group.count, lastSeq: group.lastSeq, stderr, ci };
          intervals.set(cacheKey, cached);
        }
        return { name: group.name, count: group.count, mean: group.mean, stderr: cached.stderr, ci: cached.ci };
      })
      .sort((a, b) => b.mean - a.mean || a.name.localeCompare(b.name));
  };

  const aggregate = (by: "model" | "prompt" | "arm", filter?: FeedbackFilter, level?: number): FeedbackAggregate[] => aggregateGroups(by, filter, level);

  return {
    path,
    rate(entry) {
      const parsed = NewFeedbackSchema.safeParse(entry);
      if (!parsed.success) throw new DefinitionError(`Invalid feedback: ${z.prettifyError(parsed.error)}. Pass { runId, rating: number, model?, prompt? }.`);
      const stored: FeedbackEntry = { ...parsed.data, id: randomUUID(), createdAt: now() };
      insert.run(stored.id, stored.createdAt, stored.runId, stored.rating, stored.model ?? null, stored.prompt ?? null, stored.experiment ?? null, stored.arm ?? null, stored.key ?? null, stored.comment ?? null);
      return stored;
    },
    list,
    aggregate,
    preferredModel(task, preferOptions) {
      const { minRatings = 3, minRating, level, ...router } = preferOptions;
      // Only the candidates' groups are read (an indexed IN), not every model ever rated.
      const ratings = aggregateGroups("model", undefined, level, [...new Set((router.candidates ?? []).map((candidate) => candidate.name))]);
      const { kept, excluded, everyOneOut } = ruleOut(router.candidates ?? [], ratings, minRatings, minRating);
      const decision = routeModel(task, { ...router, candidates: kept });
      const note = everyOneOut
        ? `; every candidate's mean rating is below the minimum ${minRating}, so feedback ruled out none`
        : excluded.length
          ? `; feedback ruled out ${excluded.map((entry) => `"${entry.name}" (${entry.reason})`).join(", ")}`
          : ratings.length
            ? "; feedback ruled out no candidate"
            : "; no feedback yet";
      return { ...decision, reason: decision.reason + note, excluded, ratings };
    },
    close() {
      if (db.open) db.close();
    },
  };
}

function ruleOut(candidates: readonly RouteCandidate[], ratings: FeedbackAggregate[], minRatings: number, minRating: number | undefined) {
  const byName = new Map(ratings.map((rated) => [rated.name, rated]));
  const judged = ratings.filter((rated) => rated.count >= minRatings);
  const best = judged[0];
  const why = (rated: FeedbackAggregate | undefined): string | undefined => {
    if (!rated || rated.count < minRatings) return undefined;
    const own = `mean ${format(rated.mean)} of ${rated.count} ratings, CI [${format(rated.ci[0])}, ${format(rated.ci[1])}]`;
    if (minRating !== undefined && rated.mean < minRating) return `${own}, below the minimum ${format(minRating)}`;
    if (best && rated !== best && rated.ci[1] < best.ci[0]) return `${own}, wholly below "${best.name}" at ${format(best.mean)}, CI [${format(best.ci[0])}, ${format(best.ci[1])}]`;
    return undefined;
  };
  const excluded = candidates.flatMap((candidate) => {
    const reason = why(byName.get(candidate.name));
    return reason ? [{ name: candidate.name, reason }] : [];
  });
  let kept = candidates.filter((candidate) => !excluded.some((entry) => entry.name === candidate.name));
  // A minimum every model misses says the scale is off, not which model to use: route over them all.
  const everyOneOut = kept.length === 0;
  if (everyOneOut) kept = [...candidates];
  // Best rated first (unrated count as average), so routeModel's stable sort breaks cost ties by rating.
  const average = ratings.length ? ratings.reduce((sum, rated) => sum + rated.mean, 0) / ratings.length : 0;
  const meanOf = (candidate: RouteCandidate) => byName.get(candidate.name)?.mean ?? average;
  kept = [...kept].sort((a, b) => meanOf(b) - meanOf(a));
  return { kept, excluded: everyOneOut ? [] : excluded, everyOneOut };
}

function format(value: number): string {
  return value.toFixed(2);
}

function fromRow(row: Row): FeedbackEntry {
  const optional = (field: keyof NewFeedback, value: string | null) => (value === null ? {} : { [field]: value });
  return {
    id: row.id,
    createdAt: row.created_at,
    runId: row.run_id,
    rating: row.rating,
    ...optional("model", row.model),
    ...optional("prompt", row.prompt),
    ...optional("experiment", row.experiment),
    ...optional("arm", row.arm),
    ...optional("key", row.key),
    ...optional("comment", row.comment),
  };
}
