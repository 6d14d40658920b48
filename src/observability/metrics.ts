import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent, EventOf } from "../events/types.ts";

const MODEL_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const TOOL_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BREAKER_STATES = { closed: 0, "half-open": 1, open: 2, isolated: 3 } as const;

/**
 * Prometheus metrics of runs, counted from their events: runs, model requests (with latency,
 * tokens, cost and cache use), tool calls, retries, breaker states, errors and approvals. Each
 * instance has its own registry, never prom-client's global one, so two instances (or a library
 * that uses the global registry) do not collide. Serve `text()` with `contentType` on /metrics.
 *
 * @example
 * const metrics = new RunMetrics();
 * const detach = metrics.attach(events);
 * http.createServer(async (_, res) => res.writeHead(200, { "content-type": metrics.contentType }).end(await metrics.text()));
 */
export class RunMetrics {
  /** The registry holding these metrics; merge it with others or add process metrics to it. */
  readonly registry = new Registry();
  private readonly graphs = new Map<string, string>();
  private cacheHits = 0;
  private cacheMisses = 0;

  private readonly runs = this.counter("conclave_runs_total", "Runs finished, by graph and final status.", ["graph", "status"]);
  private readonly modelRequests = this.counter("conclave_model_requests_total", "Model calls, by outcome and whether the response cache answered.", ["model", "agent", "graph", "status", "cached"]);
  private readonly modelSeconds = new Histogram({ name: "conclave_model_request_duration_seconds", help: "Model call latency, retries and waits included.", labelNames: ["model", "agent", "graph"], buckets: MODEL_SECONDS, registers: [this.registry] });
  private readonly tokens = this.counter("conclave_tokens_total", "Tokens sent to (input) and received from (output) models.", ["model", "agent", "graph", "direction"]);
  private readonly cost = this.counter("conclave_cost_usd_total", "What model calls cost in USD, from the run's price table.", ["model", "agent", "graph"]);
  private readonly toolCalls = this.counter("conclave_tool_calls_total", "Tool calls, by outcome.", ["tool", "agent", "status"]);
  private readonly toolSeconds = new Histogram({ name: "conclave_tool_call_duration_seconds", help: "Tool call latency.", labelNames: ["tool"], buckets: TOOL_SECONDS, registers: [this.registry] });
  private readonly retries = this.counter("conclave_retries_total", "Failed model requests tried again.", ["model"]);
  private readonly cacheRequests = this.counter("conclave_cache_requests_total", "Successful model calls answered from the response cache (hit) or not (miss).", ["result"]);
  private readonly cacheHitRatio = new Gauge({ name: "conclave_cache_hit_ratio", help: "Share of successful model calls answered from the response cache.", registers: [this.registry] });
  private readonly breakerState = new Gauge({ name: "conclave_breaker_state", help: "Circuit breaker state per provider and model: 0 closed, 1 half-open, 2 open, 3 isolated.", labelNames: ["key"], registers: [this.registry] });
  private readonly errors = this.counter("conclave_errors_total", "Errors that failed a run, by error code.", ["kind"]);
  private readonly approvals = this.counter("conclave_approvals_total", "Human decisions on pending approvals.", ["decision"]);
  private readonly serviceRuns = this.counter("conclave_service_run_status_total", "Service runs entering a status (queued, running, interrupted, done, failed, cancelled); resumed counts runs continued from a checkpoint another process left.", ["graph", "status", "resumed"]);
  private readonly queueJobs = new Gauge({ name: "conclave_queue_jobs", help: "Jobs of the run queue by state (failed: the dead letters), read when scraped.", labelNames: ["state"], registers: [this.registry] });

  /** The Content-Type header for `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts one event. Events of runs whose `run-start` was not seen are counted with graph "". */
  observe(event: ConclaveEvent): void {
    switch (event.type) {
      case "run-start":
        this.graphs.set(event.runId, event.graph);
        return;
      case "run-end":
        this.runs.inc({ graph: this.graphOf(event), status: event.status });
        this.graphs.delete(event.runId);
        return;
      case "llm-call-end":
        return this.observeModelCall(event);
      case "tool-call-end":
        this.toolCalls.inc({ tool: event.tool, agent: event.agent ?? "", status: event.error === undefined ? "ok" : "error" });
        this.toolSeconds.observe({ tool: event.tool }, event.latencyMs / 1000);
        return;
      case "retry":
        this.retries.inc({ model: event.model });
        return;
      case "breaker":
        this.breakerState.set({ key: event.key }, BREAKER_STATES[event.state]);
        return;
      case "error":
        this.errors.inc({ kind: String(event.error.code ?? "UNKNOWN") });
        return;
      case "approval-decision":
        this.approvals.inc({ decision: event.decision });
        return;
      default:
        return;
    }
  }

  /** Counts a service run's status change (the `run-status` events of the service's event stream). */
  observeStatus(event: { graph: string; status: string; resumed?: boolean }): void {
    this.serviceRuns.inc({ graph: event.graph, status: event.status, resumed: event.resumed ? "true" : "false" });
  }

  /** Sets the run queue's job counts (BullMQ's waiting, active, failed…). */
  setQueueCounts(counts: Record<string, number>): void {
    for (const [state, count] of Object.entries(counts)) this.queueJobs.set({ state }, count);
  }

  /**
   * Counts every event published on `events` from now on.
   * @returns A function that stops counting.
   */
  attach(events: RunEvents): () => void {
    const listener = (event: ConclaveEvent) => this.observe(event);
    events.on("event", listener);
    return () => {
      events.off("event", listener);
    };
  }

  /** The metrics in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private observeModelCall(event: EventOf<"llm-call-end">): void {
    const labels = { model: event.model, agent: event.agent ?? "", graph: this.graphOf(event) };
    const failed = event.error !== undefined;
    this.modelRequests.inc({ ...labels, status: failed ? "error" : "ok", cached: String(event.cached === true) });
    this.modelSeconds.observe(labels, event.latencyMs / 1000);
    this.tokens.inc({ ...labels, direction: "input" }, event.usage.inputTokens);
    this.tokens.inc({ ...labels, direction: "output" }, event.usage.outputTokens);
    this.cost.inc(labels, event.costUsd);
    // A failed call was neither answered by the cache nor by the model, so it counts as neither.
    if (failed) return;
    if (event.cached) this.cacheHits += 1;
    else this.cacheMisses += 1;
    this.cacheRequests.inc({ result: event.cached ? "hit" : "miss" });
    this.cacheHitRatio.set(this.cacheHits / (this.cacheHits + this.cacheMisses));
  }

  private graphOf(event: { runId: string }): string {
    return this.graphs.get(event.runId) ?? "";
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
