import { resolve } from "node:path";
import { ConfigError } from "../../errors.ts";
import { readRegistry } from "../../graph/registry.ts";
import { FilePollStateStore, startPollers } from "../../service/polling/index.ts";
import type { PolledItem, PollerGroup, PollLogEntry, PollSourceConfig, PollSourceState, PollStateStore } from "../../service/polling/index.ts";
import type { RunQueue } from "../../service/types.ts";
import type { Workspace } from "../workspace.ts";

/** The configured pollers of a serve workspace, checked against its graphs and ready to start. */
export interface ServePollers {
  sources: PollSourceConfig[];
  /** Starts polling into `queue`; `report` gets a line naming the sources, then one per poll that submitted or failed. */
  start(queue: Pick<RunQueue, "submit">, report?: (line: string) => void): PollerGroup;
}

/**
 * The workspace's `pollers`, with folder paths resolved against its folder and every poller's
 * graph (its own, else `defaultGraph`, else the first registered) checked to be registered.
 * Undefined when there are none.
 * @throws ConfigError naming the poller and field when a graph is not registered.
 */
export function preparePollers(workspace: Workspace): ServePollers | undefined {
  const { config, cwd } = workspace;
  if (config.pollers.length === 0) return undefined;
  const registered = readRegistry(config, cwd).map((entry) => entry.name);
  const fallback = config.defaultGraph ?? registered[0];
  const known = registered.join(", ") || "none";
  config.pollers.forEach((source, index) => {
    if (source.graph !== undefined && !registered.includes(source.graph)) {
      throw new ConfigError(`pollers.${index}.graph: poller "${source.name}" names graph "${source.graph}", which is not registered (registered: ${known}). Register it in the "graphs" map of conclave.config.json or ${config.registry}, or leave "graph" out to use the default.`, { details: { path: `pollers.${index}.graph`, graph: source.graph } });
    }
    if (source.graph === undefined && (fallback === undefined || !registered.includes(fallback))) {
      throw new ConfigError(`pollers.${index}.graph: poller "${source.name}" names no graph and the default${fallback ? ` "${fallback}" (defaultGraph)` : ""} is not registered (registered: ${known}). Set "graph" on the poller, or register a graph.`, { details: { path: `pollers.${index}.graph` } });
    }
  });
  const sources = config.pollers.map((source) => (source.type === "folder" ? { ...source, path: resolve(cwd, source.path) } : source));
  return {
    sources,
    start(queue, report) {
      report?.(`polling ${sources.map((source) => `${source.name} (${source.type === "folder" ? source.path : source.url}, every ${source.intervalMs} ms)`).join(", ")}`);
      const lines = new PollReport(report ?? (() => undefined));
      const state = lines.watch(new FilePollStateStore(resolve(cwd, config.stateDir, "pollers.json")));
      const submit = async (item: PolledItem) => {
        const run = await queue.submit({ graph: item.graph ?? fallback!, input: item.input, idempotencyKey: item.idempotencyKey });
        lines.submitted(item, run.id);
      };
      return startPollers(sources, { state, submit, log: (entry) => lines.log(entry) });
    },
  };
}

/**
 * Folds a poll's log entries into one line. The poller saves its state once per page, after the
 * page's submits, so the save closes the line; a poll that fails before saving closes it with the error.
 */
class PollReport {
  private readonly pending = new Map<string, { submitted: string[]; problems: string[] }>();

  constructor(private readonly write: (line: string) => void) {}

  watch(store: PollStateStore): PollStateStore {
    return {
      load: (source) => store.load(source),
      save: async (source: string, state: PollSourceState) => {
        await store.save(source, state);
        this.flush(source);
      },
    };
  }

  submitted(item: PolledItem, runId: string): void {
    this.entry(item.source).submitted.push(`${item.itemId} → run ${runId}`);
  }

  log(entry: PollLogEntry): void {
    // Submits are reported with their run ids by submitted(); backoff and recovery notes are not a poll's outcome.
    if (entry.level === "info" || entry.message.startsWith("next poll in")) return;
    this.entry(entry.source).problems.push(entry.message);
    if (entry.message.startsWith("poll failed")) this.flush(entry.source);
  }

  private entry(source: string): { submitted: string[]; problems: string[] } {
    let entry = this.pending.get(source);
    if (!entry) this.pending.set(source, (entry = { submitted: [], problems: [] }));
    return entry;
  }

  private flush(source: string): void {
    const entry = this.pending.get(source);
    this.pending.delete(source);
    if (!entry || (entry.submitted.length === 0 && entry.problems.length === 0)) return;
    const parts = [
      ...(entry.submitted.length ? [`submitted ${entry.submitted.length} run${entry.submitted.length === 1 ? "" : "s"} (${entry.submitted.join(", ")})`] : []),
      ...entry.problems,
    ];
    this.write(`poller ${source}: ${parts.join("; ")}`);
  }
}
