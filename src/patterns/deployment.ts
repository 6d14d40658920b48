import { stableShare } from "../eval/stats/random.ts";
import { isGraphBubbleUp } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { ConclaveError, DefinitionError, RunAbortedError } from "../errors.ts";
import { isBudgetExceeded } from "../runtime/budget.ts";
import { reportEvent } from "../runtime/context.ts";
import { parsePatternOptions } from "./batch.ts";
import { MemoryDeploymentStore } from "./deployment-store.ts";
import type { DeploymentState, DeploymentStore, DeploymentVersionStats } from "./deployment-store.ts";

/** One deployable version: a graph, a model, a prompt — whatever the caller runs. */
export interface DeploymentVersion<T> {
  /** "v1", "2024-06-prompt", … Names the version in routes, events and the stored state. */
  name: string;
  target: T;
}

/** A feature flag: on or off for everyone, on for listed users, and/or on for a stable share of users. */
export type FlagRule = boolean | { users?: string[]; percent?: number };

/**
 * The automatic rollback rule: roll back when the canary's error rate exceeds stable's by more than `margin`, once both have `minSamples`.
 * Known limit: the rates compare cumulative counts since the canary started, not a sliding window, so a late regression shows slowly.
 */
export interface RollbackRule {
  metric: "error-rate";
  /** 0..1: 0.05 allows the canary five points more errors than stable. */
  margin: number;
  minSamples: number;
}

export interface DeploymentOptions<T> {
  /** Keys the stored state and salts the hashes (letters, digits, `_`, `-`, `.`). */
  name: string;
  stable: DeploymentVersion<T>;
  canary?: DeploymentVersion<T>;
  flags?: Record<string, FlagRule>;
  /** Who gets the canary: a stable share of users, listed users, or both. */
  rollout?: { percent?: number; users?: string[] };
  /** Default `{ metric: "error-rate", margin: 0.05, minSamples: 100 }`. */
  rollback?: RollbackRule;
  /** Default: in memory. `SqliteDeploymentStore` shares the state between processes and restarts. */
  store?: DeploymentStore;
  onEvent?: (event: DeploymentEvent) => void;
}

/** Where a request goes, and why. */
export interface DeploymentRoute<T> {
  version: "stable" | "canary";
  name: string;
  target: T;
  reason: string;
}

/** A status change: reported to `onEvent`, and to the run (a `decision` and a `warning`) when a config is passed. */
export type DeploymentEvent =
  | { type: "rolled-back"; deployment: string; automatic: boolean; reason: string; stable: DeploymentVersionStats; canary: DeploymentVersionStats }
  | { type: "promoted"; deployment: string; reason: string };

/** `isEnabled` was asked about a flag the deployment does not define. */
export class UnknownFlagError extends ConclaveError {
  override name = "UnknownFlagError";
  constructor(flag: string, known: string[]) {
    super("FLAG_UNKNOWN", "user", `No feature flag "${flag}". Defined flags: ${known.length ? known.join(", ") : "(none)"}. Add it to createDeployment({ flags }) or fix the name.`, { details: { flag, known } });
  }
}

const Version = z.object({ name: z.string().min(1), target: z.unknown() });
const OptionsSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'use 1-64 letters, digits, "_", "-" or "."'),
    stable: Version,
    canary: Version.optional(),
    flags: z.record(z.string(), z.union([z.boolean(), z.object({ users: z.array(z.string()).optional(), percent: z.number().min(0).max(100).optional() }).strict()])).default({}),
    rollout: z.object({ percent: z.number().min(0).max(100).optional(), users: z.array(z.string()).optional() }).strict().refine((rollout) => rollout.percent !== undefined || rollout.users !== undefined, "give percent (0-100), users, or both").optional(),
    rollback: z.object({ metric: z.literal("error-rate"), margin: z.number().min(0).max(1), minSamples: z.number().int().positive() }).default({ metric: "error-rate", margin: 0.05, minSamples: 100 }),
    store: z.custom<DeploymentStore>((value) => typeof (value as DeploymentStore | undefined)?.record === "function", "must be a DeploymentStore (MemoryDeploymentStore, SqliteDeploymentStore)").optional(),
    onEvent: z.custom<(event: DeploymentEvent) => void>((value) => typeof value === "function", "must be a function (event) => void").optional(),
  })
  .refine((options) => !options.canary || options.rollout, { message: "a canary needs a rollout: { percent } or { users }", path: ["rollout"] })
  .refine((options) => options.canary?.name !== options.stable.name, { message: "the canary and stable versions need different names", path: ["canary", "name"] });

/** 0..9999 from a SHA-256 of the key: the same user always lands in the same bucket, for every process. */
export function stableBucket(key: string): number {
  return Math.floor(stableShare(key) * 10_000);
}

const rate = (stats: DeploymentVersionStats) => (stats.requests ? stats.errors / stats.requests : 0);
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/**
 * Feature flags, canary routing and blue-green switching with automatic rollback. Users are
 * routed by a stable hash, so each one sticks to a version (and a flag value) across requests and
 * processes. Every outcome is `record`ed (or use `serve`, which records for you); once both
 * versions have `minSamples`, a canary whose error rate exceeds stable's by more than `margin` is
 * rolled back: the state is stored, an event is emitted, and from then on all traffic goes to
 * stable. `promote()` is the blue-green switch (all traffic to the canary, still guarded).
 *
 * @example
 * const deployment = createDeployment({ name: "answerer", stable: { name: "v1", target: v1 }, canary: { name: "v2", target: v2 },
 *   rollout: { percent: 10 }, rollback: { metric: "error-rate", margin: 0.05, minSamples: 200 }, store: new SqliteDeploymentStore() });
 * const answer = await deployment.serve(userId, (graph) => run(graph, input));
 */
export function createDeployment<T>(options: DeploymentOptions<T>) {
  const settings = parsePatternOptions(OptionsSchema, options, "deployment", "{ name, stable: { name, target }, canary?, flags?, rollout?: { percent } | { users }, rollback?: { metric: \"error-rate\", margin, minSamples }, store? }");
  const { name, flags, rollback } = settings;
  const { stable, canary } = options;
  const store = options.store ?? new MemoryDeploymentStore();
  // A new canary starts with fresh counts and a fresh status: the key names both versions.
  const key = `${name}:${stable.name}->${canary?.name ?? "-"}`;
  const listed = new Set(settings.rollout?.users ?? []);

  const emit = (event: DeploymentEvent, config: LangGraphRunnableConfig | undefined) => {
    options.onEvent?.(event);
    if (event.type === "rolled-back") {
      reportEvent(config, { type: "decision", by: `deployment:${name}`, next: stable.name, reason: event.reason });
      reportEvent(config, { type: "warning", message: `deployment ${name}: rolled back to ${stable.name}: ${event.reason}` });
    } else reportEvent(config, { type: "decision", by: `deployment:${name}`, next: canary!.name, reason: event.reason });
  };

  const toStable = (reason: string): DeploymentRoute<T> => ({ version: "stable", name: stable.name, target: stable.target, reason });
  const toCanary = (reason: string): DeploymentRoute<T> => ({ version: "canary", name: canary!.name, target: canary!.target, reason });

  function route(user: string): DeploymentRoute<T> {
    if (!canary) return toStable("no canary is deployed");
    const state = store.load(key);
    if (state.status === "rolled-back") return toStable(`the canary was rolled back: ${state.reason ?? "by hand"}`);
    if (state.status === "promoted") return toCanary(`${canary.name} is promoted: all traffic`);
    if (listed.has(user)) return toCanary(`${user} is on the canary list`);
    const share = settings.rollout?.percent ?? 0;
    const bucket = stableBucket(`${name}:canary:${canary.name}:${user}`);
    return bucket < share * 100 ? toCanary(`bucket ${bucket} is within the ${share}% rollout`) : toStable(`bucket ${bucket} is outside the ${share}% rollout`);
  }

  function isEnabled(flag: string, user: string): boolean {
    const rule = flags[flag];
    if (rule === undefined) throw new UnknownFlagError(flag, Object.keys(flags));
    if (typeof rule === "boolean") return rule;
    // Salted by flag, so one user's flags are independent of each other and of the canary.
    return (rule.users?.includes(user) ?? false) || stableBucket(`${name}:flag:${flag}:${user}`) < (rule.percent ?? 0) * 100;
  }

  function record(version: "stable" | "canary", outcome: { error: boolean } | "ok" | "error", config?: LangGraphRunnableConfig): DeploymentState {
    if (version === "canary" && !canary) throw new DefinitionError(`Deployment "${name}" has no canary to record an outcome for. Record "stable", or add a canary.`);
    const error = typeof outcome === "string" ? outcome === "error" : outcome.error;
    const state = store.record(key, version, error);
    if (!canary || state.status === "rolled-back") return state;
    const [stableRate, canaryRate] = [rate(state.stable), rate(state.canary)];
    if (state.canary.requests < rollback.minSamples || state.stable.requests < rollback.minSamples || canaryRate - stableRate <= rollback.margin) return state;
    const reason = `${canary.name} error rate ${percent(canaryRate)} (${state.canary.errors}/${state.canary.requests}) exceeds ${stable.name}'s ${percent(stableRate)} (${state.stable.errors}/${state.stable.requests}) by more than ${percent(rollback.margin)}`;
    const changed = store.setStatus(key, "rolled-back", reason);
    if (changed.changed) emit({ type: "rolled-back", deployment: name, automatic: true, reason, stable: state.stable, canary: state.canary }, config);
    return changed.state;
  }

  return {
    name,
    route,
    isEnabled,
    record,
    /** Routes `user`, runs `call` on the chosen target, and records the outcome: a throw counts as an error and is rethrown, except a cancellation, a spent budget or an interrupt (not the version's fault: rethrown, not recorded). */
    async serve<R>(user: string, call: (target: T, route: DeploymentRoute<T>) => R | Promise<R>, config?: LangGraphRunnableConfig): Promise<R> {
      const chosen = route(user);
      let result: R;
      try {
        result = await call(chosen.target, chosen);
      } catch (error) {
        if (!isNotTheVersionsFault(error, config)) record(chosen.version, "error", config);
        throw error;
      }
      record(chosen.version, "ok", config);
      return result;
    },
    /** The blue-green switch: all traffic to the canary. The rollback rule still watches it. */
    promote(reason = "promoted by hand", config?: LangGraphRunnableConfig): DeploymentState {
      if (!canary) throw new DefinitionError(`Deployment "${name}" has no canary to promote. Add one with { canary: { name, target }, rollout }.`);
      const changed = store.setStatus(key, "promoted", reason);
      if (changed.changed) emit({ type: "promoted", deployment: name, reason }, config);
      return changed.state;
    },
    /** Rolls back by hand: all traffic to stable. */
    rollback(reason = "rolled back by hand", config?: LangGraphRunnableConfig): DeploymentState {
      const changed = store.setStatus(key, "rolled-back", reason);
      if (changed.changed) emit({ type: "rolled-back", deployment: name, automatic: false, reason, stable: changed.state.stable, canary: changed.state.canary }, config);
      return changed.state;
    },
    state: (): DeploymentState => store.load(key),
  };
}

/** A cancelled request, a spent run budget or an interrupt says nothing about the version: counting it could roll back a healthy canary. */
function isNotTheVersionsFault(error: unknown, config: LangGraphRunnableConfig | undefined): boolean {
  if (config?.signal?.aborted || isBudgetExceeded(error) || isGraphBubbleUp(error) || error instanceof RunAbortedError) return true;
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

export type Deployment<T> = ReturnType<typeof createDeployment<T>>;
