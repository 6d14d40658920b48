import { resolve } from "node:path";
import type { Statement } from "better-sqlite3";
import { openSqlite } from "../resilience/sqlite.ts";
import type { SqliteDatabase } from "../resilience/sqlite.ts";

/** Requests and errors seen by one version. */
export interface DeploymentVersionStats {
  requests: number;
  errors: number;
}

/** Where a deployment stands; kept in a store so every process (and a restart) routes the same way. */
export interface DeploymentState {
  /** "canary": the rollout is live; "promoted": all traffic on the canary; "rolled-back": all traffic on stable. */
  status: "canary" | "promoted" | "rolled-back";
  stable: DeploymentVersionStats;
  canary: DeploymentVersionStats;
  /** Why the status last changed. */
  reason?: string;
  changedAt?: number;
}

/**
 * Keeps deployment state by key. `record` must count atomically: several processes may serve the
 * same deployment. `setStatus` answers whether it changed anything, so exactly one caller reports
 * a rollback.
 */
export interface DeploymentStore {
  load(key: string): DeploymentState;
  record(key: string, version: "stable" | "canary", error: boolean): DeploymentState;
  setStatus(key: string, status: DeploymentState["status"], reason: string): { state: DeploymentState; changed: boolean };
}

const fresh = (): DeploymentState => ({ status: "canary", stable: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } });

/** Deployment state in this process only: for tests and single-process services. */
export class MemoryDeploymentStore implements DeploymentStore {
  private readonly states = new Map<string, DeploymentState>();

  load(key: string): DeploymentState {
    return structuredClone(this.states.get(key) ?? fresh());
  }

  record(key: string, version: "stable" | "canary", error: boolean): DeploymentState {
    const state = this.states.get(key) ?? fresh();
    state[version].requests++;
    if (error) state[version].errors++;
    this.states.set(key, state);
    return structuredClone(state);
  }

  setStatus(key: string, status: DeploymentState["status"], reason: string): { state: DeploymentState; changed: boolean } {
    const state = this.states.get(key) ?? fresh();
    const changed = state.status !== status;
    if (changed) Object.assign(state, { status, reason, changedAt: Date.now() });
    this.states.set(key, state);
    return { state: structuredClone(state), changed };
  }
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS deployments (
  key TEXT PRIMARY KEY, status TEXT NOT NULL DEFAULT 'canary',
  stable_requests INTEGER NOT NULL DEFAULT 0, stable_errors INTEGER NOT NULL DEFAULT 0,
  canary_requests INTEGER NOT NULL DEFAULT 0, canary_errors INTEGER NOT NULL DEFAULT 0,
  reason TEXT, changed_at INTEGER)`;

interface Row {
  status: DeploymentState["status"];
  stable_requests: number;
  stable_errors: number;
  canary_requests: number;
  canary_errors: number;
  reason: string | null;
  changed_at: number | null;
}

/** The default file of `SqliteDeploymentStore`, relative to `cwd`. */
export const DEFAULT_DEPLOYMENT_PATH = ".conclave/deployments.sqlite";

/**
 * Deployment state in one SQLite file: counts are incremented in SQL, so processes serving the
 * same deployment add up rather than overwrite each other, and a rollback survives restarts.
 */
export class SqliteDeploymentStore implements DeploymentStore {
  readonly path: string;
  private readonly db: SqliteDatabase;
  private readonly statements: { ensure: Statement<[string]>; get: Statement<[string], Row>; count: Record<"stable" | "canary", Statement<[number, string]>>; status: Statement<[string, string, number, string, string]> };

  constructor(options: { path?: string; cwd?: string } = {}) {
    const file = options.path ?? DEFAULT_DEPLOYMENT_PATH;
    this.path = file === ":memory:" ? file : resolve(options.cwd ?? process.cwd(), file);
    this.db = openSqlite(this.path, SCHEMA, { store: "deployment store", instead: "use a MemoryDeploymentStore" });
    this.statements = {
      ensure: this.db.prepare("INSERT INTO deployments (key) VALUES (?) ON CONFLICT(key) DO NOTHING"),
      get: this.db.prepare("SELECT status, stable_requests, stable_errors, canary_requests, canary_errors, reason, changed_at FROM deployments WHERE key = ?"),
      count: {
        stable: this.db.prepare("UPDATE deployments SET stable_requests = stable_requests + 1, stable_errors = stable_errors + ? WHERE key = ?"),
        canary: this.db.prepare("UPDATE deployments SET canary_requests = canary_requests + 1, canary_errors = canary_errors + ? WHERE key = ?"),
      },
      // Only a real change is written, so of two processes rolling back at once exactly one reports it.
      status: this.db.prepare("UPDATE deployments SET status = ?, reason = ?, changed_at = ? WHERE key = ? AND status != ?"),
    };
  }

  load(key: string): DeploymentState {
    const row = this.statements.get.get(key);
    return row ? fromRow(row) : fresh();
  }

  record(key: string, version: "stable" | "canary", error: boolean): DeploymentState {
    return this.db.transaction(() => {
      this.statements.ensure.run(key);
      this.statements.count[version].run(error ? 1 : 0, key);
      return fromRow(this.statements.get.get(key)!);
    })();
  }

  setStatus(key: string, status: DeploymentState["status"], reason: string): { state: DeploymentState; changed: boolean } {
    return this.db.transaction(() => {
      this.statements.ensure.run(key);
      const changed = this.statements.status.run(status, reason, Date.now(), key, status).changes > 0;
      return { state: fromRow(this.statements.get.get(key)!), changed };
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function fromRow(row: Row): DeploymentState {
  return {
    status: row.status,
    stable: { requests: row.stable_requests, errors: row.stable_errors },
    canary: { requests: row.canary_requests, errors: row.canary_errors },
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.changed_at === null ? {} : { changedAt: row.changed_at }),
  };
}
