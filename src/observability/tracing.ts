import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent, EventOf, ModelInfo } from "../events/types.ts";
import { CONCLAVE, ERROR_TYPE } from "./attributes.ts";
import { annotationAttributes, chatEndAttributes, chatStartAttributes, nodeAttributes, runEndAttributes, runStartAttributes, toolEndAttributes, toolStartAttributes } from "./span-attributes.ts";

/** The open spans of one run. */
interface RunTrace {
  span: Span;
  model: ModelInfo;
  /** Node spans by their pairing key: the path, or `node#step` when the node has none. */
  nodes: Map<string, Span>;
  /** Node spans by path, to find the enclosing node of a nested node or a call. */
  byPath: Map<string, Span>;
  /** Model and tool call spans by `llm:` / `tool:` + call id. */
  calls: Map<string, Span>;
}

/**
 * Turns the events of the runs on `events` into OpenTelemetry spans: one trace per run, rooted in
 * a `conclave.run <graph>` span; a `node <name>` span per node execution, inside the span of the
 * node whose task encloses it (by checkpoint path), else the run's; and `chat <model>` /
 * `execute_tool <tool>` spans, with GenAI semantic-convention attributes, inside the node that
 * made the call. Failed runs, nodes and calls get an error status. Spans still open when their
 * run ends (or when tracing is detached) are ended then and marked `conclave.unfinished`.
 *
 * Parents are set explicitly rather than through the active context: events arrive through an
 * emitter, after the code that caused them has moved on.
 *
 * @returns A function that stops tracing and ends the spans still open.
 * @example
 * const provider = createTracerProvider();
 * const detach = provider ? attachTracing(events, provider.tracer) : () => {};
 */
export function attachTracing(events: RunEvents, tracer: Tracer): () => void {
  const runs = new Map<string, RunTrace>();
  const listener = (event: ConclaveEvent) => handle(tracer, runs, event);
  events.on("event", listener);
  return () => {
    events.off("event", listener);
    for (const run of runs.values()) {
      closeOpen(run, Date.now());
      run.span.end();
    }
    runs.clear();
  };
}

function handle(tracer: Tracer, runs: Map<string, RunTrace>, event: ConclaveEvent): void {
  if (event.type === "run-start") {
    runs.set(event.runId, startRun(tracer, event));
    return;
  }
  // Events of a run that started before tracing was attached have no tree to join.
  const run = runs.get(event.runId);
  if (!run || event.type === "token") return;
  switch (event.type) {
    case "run-end":
      endRun(run, event);
      runs.delete(event.runId);
      return;
    case "node-start":
      return startNode(tracer, run, event);
    case "node-end":
      return endSpan(run.nodes, nodeKey(event), event.at, {}, event.error, () => forgetPath(run, event.path));
    case "llm-call-start":
      return startCall(tracer, run, `llm:${event.callId}`, `chat ${event.model}`, SpanKind.CLIENT, event, chatStartAttributes(event, run.model));
    case "llm-call-end":
      return endSpan(run.calls, `llm:${event.callId}`, event.at, chatEndAttributes(event), event.error);
    case "tool-call-start":
      return startCall(tracer, run, `tool:${event.callId}`, `execute_tool ${event.tool}`, SpanKind.INTERNAL, event, toolStartAttributes(event));
    case "tool-call-end":
      return endSpan(run.calls, `tool:${event.callId}`, event.at, toolEndAttributes(event), event.error);
    default:
      run.span.addEvent(event.type, annotationAttributes(event), event.at);
  }
}

function startRun(tracer: Tracer, event: EventOf<"run-start">): RunTrace {
  // `root` starts a new trace even when the caller has a span active: one trace per run.
  const span = tracer.startSpan(`conclave.run ${event.graph}`, { root: true, kind: SpanKind.INTERNAL, startTime: event.at, attributes: runStartAttributes(event) }, context.active());
  return { span, model: event.model, nodes: new Map(), byPath: new Map(), calls: new Map() };
}

function endRun(run: RunTrace, event: EventOf<"run-end">): void {
  closeOpen(run, event.at);
  run.span.setAttributes(runEndAttributes(event));
  if (event.status === "failed" || event.status === "aborted") {
    const code = event.error?.code;
    run.span.setAttribute(ERROR_TYPE, typeof code === "string" ? code : event.status);
    run.span.setStatus({ code: SpanStatusCode.ERROR, message: String(event.error?.message ?? `run ${event.status}`) });
  } else {
    run.span.setStatus({ code: SpanStatusCode.OK });
  }
  run.span.end(event.at);
}

function startNode(tracer: Tracer, run: RunTrace, event: EventOf<"node-start">): void {
  const parent = enclosingSpan(run, event.path, false);
  const span = tracer.startSpan(`node ${event.node}`, { kind: SpanKind.INTERNAL, startTime: event.at, attributes: nodeAttributes(event) }, trace.setSpan(context.active(), parent));
  run.nodes.set(nodeKey(event), span);
  if (event.path) run.byPath.set(event.path, span);
}

function startCall(tracer: Tracer, run: RunTrace, key: string, name: string, kind: SpanKind, event: { at: number; path?: string }, attributes: Attributes): void {
  const parent = enclosingSpan(run, event.path, true);
  run.calls.set(key, tracer.startSpan(name, { kind, startTime: event.at, attributes }, trace.setSpan(context.active(), parent)));
}

/** Ends the span under `key` with its closing attributes and, when `error` is set, an error status. */
function endSpan(spans: Map<string, Span>, key: string, at: number, attributes: Attributes, error: string | undefined, after?: () => void): void {
  const span = spans.get(key);
  if (!span) return;
  spans.delete(key);
  after?.();
  span.setAttributes(attributes);
  if (error !== undefined) {
    span.setAttribute(ERROR_TYPE, "_OTHER");
    span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  }
  span.end(at);
}

/**
 * The span of the nearest node enclosing `path`: the longest `|`-separated prefix of it that
 * has an open node span (the path itself counts for calls made by that node), else the run's.
 */
function enclosingSpan(run: RunTrace, path: string | undefined, includeSelf: boolean): Span {
  if (!path) return run.span;
  const parts = path.split("|");
  for (let length = includeSelf ? parts.length : parts.length - 1; length > 0; length--) {
    const span = run.byPath.get(parts.slice(0, length).join("|"));
    if (span) return span;
  }
  return run.span;
}

function nodeKey(event: { node: string; step: number; path?: string }): string {
  return event.path || `${event.node}#${event.step}`;
}

function forgetPath(run: RunTrace, path: string | undefined): void {
  if (path) run.byPath.delete(path);
}

/** Ends calls first, then nodes, so no child outlives its parent. */
function closeOpen(run: RunTrace, at: number): void {
  for (const span of [...run.calls.values(), ...[...run.nodes.values()].reverse()]) {
    span.setAttribute(CONCLAVE.unfinished, true);
    span.end(at);
  }
  run.calls.clear();
  run.nodes.clear();
  run.byPath.clear();
}

export interface TracerProviderOptions {
  /** `service.name` of the spans when `OTEL_SERVICE_NAME` is not set (default "conclave"). */
  serviceName?: string;
  /** Export here instead of OTLP/HTTP (tests, a custom backend); tracing is then on without an endpoint. */
  exporter?: SpanExporter;
  /** "batch" (default) sends spans in the background; "simple" sends each span as it ends. */
  processor?: "batch" | "simple";
}

/** A tracer for `attachTracing`, and the way to flush and stop it. */
export interface ConclaveTracerProvider {
  tracer: Tracer;
  /** Sends the spans not yet exported and stops; call it before the process exits. */
  shutdown(): Promise<void>;
}

type Environment = Record<string, string | undefined>;

/**
 * Builds a tracer that exports spans over OTLP/HTTP (JSON) when the standard OpenTelemetry
 * variables ask for it: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), with `OTEL_EXPORTER_OTLP_HEADERS` /
 * `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, and `OTEL_SERVICE_NAME`. Returns `undefined` — tracing
 * off, nothing sent anywhere — when neither endpoint is set (and no exporter is given), or when
 * `OTEL_SDK_DISABLED=true`. The provider is not registered globally, so other OpenTelemetry
 * users in the process are unaffected.
 *
 * @example
 * const provider = createTracerProvider();
 * const detach = provider ? attachTracing(events, provider.tracer) : undefined;
 * try { await run(graph, input, { events }); } finally { detach?.(); await provider?.shutdown(); }
 */
export function createTracerProvider(env: Environment = process.env, options: TracerProviderOptions = {}): ConclaveTracerProvider | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return undefined;
  const url = tracesEndpoint(env);
  if (!options.exporter && url === undefined) return undefined;
  const exporter = options.exporter ?? new OTLPTraceExporter({ url: url!, headers: headersFrom(env) });
  const processor = options.processor === "simple" ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || options.serviceName || "conclave";
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }), spanProcessors: [processor] });
  return { tracer: provider.getTracer("conclave"), shutdown: () => provider.shutdown() };
}

/** The traces URL the variables name, following the OTLP exporter specification. */
function tracesEndpoint(env: Environment): string | undefined {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (specific) return specific;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!base) return undefined;
  return `${base.replace(/\/+$/, "")}/v1/traces`;
}

/** `key=value,key2=value2` (values percent-encoded), the signal-specific list winning. */
function headersFrom(env: Environment): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const list of [env.OTEL_EXPORTER_OTLP_HEADERS, env.OTEL_EXPORTER_OTLP_TRACES_HEADERS]) {
    for (const pair of (list ?? "").split(",")) {
      const at = pair.indexOf("=");
      if (at <= 0) continue;
      headers[decode(pair.slice(0, at).trim())] = decode(pair.slice(at + 1).trim());
    }
  }
  return headers;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
