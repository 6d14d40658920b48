import { setTimeout as sleep } from "node:timers/promises";
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { compileGraph, createAgentGraph, createStreamProcessor, defineAgent, defineGraph, observeNode, setStepBudget } from "conclave";
import type { StreamReport } from "conclave";
import { z } from "zod";

/** One reading from the sensor gateway. */
export interface Reading {
  seq: number;
  sensor: string;
  celsius: number;
}

const SensorStats = z.object({ count: z.number(), min: z.number(), max: z.number(), mean: z.number() });

export const StreamExampleState = new StateSchema({
  task: z.string(),
  report: z.custom<StreamReport>().optional(),
  sensors: z.record(z.string(), SensorStats).default(() => ({})),
  /** One line per overheating reading, written by the model. */
  anomalies: z.array(z.string()).default(() => []),
  alerts: z.array(z.string()).default(() => []),
});
type State = typeof StreamExampleState.State;

/** Timings of the simulated gateway and store, so the run shows backpressure, a slow-sink alert and a time flush. */
export interface SensorStreamOptions {
  /** After this many readings the gateway goes quiet for `lullMs` (reconnecting). */
  lullAfter?: number;
  lullMs?: number;
  /** The store stalls this long on one batch (a compaction). */
  stallMs?: number;
  /** Told the running totals after every reading the gateway hands over and every batch the store takes: lets a caller measure what is in flight itself. */
  onFlow?: (flow: { pulled: number; sunk: number }) => void;
}

/** A deterministic sensor feed: four sensors on a slow wave, one overheating spike every 53 readings. */
async function* readings(count: number, options: Required<Omit<SensorStreamOptions, "onFlow">>, pulled: (seq: number) => void): AsyncGenerator<Reading> {
  for (let seq = 0; seq < count; seq++) {
    if (seq === options.lullAfter) await sleep(options.lullMs);
    const spike = seq % 53 === 17;
    // The body runs again only when the processor asks for the next reading: this is the moment it is pulled.
    pulled(seq);
    yield { seq, sensor: `sensor-${seq % 4}`, celsius: spike ? 95 : Math.round((21 + 4 * Math.sin(seq / 9)) * 10) / 10 };
  }
}

// An agent, so each call takes the run's full model path: fallback models, cache, record/replay, breakers, budget.
const describer = createAgentGraph(defineAgent({ name: "overheating-describer", instructions: "Say which sensors overheated and when, one sentence per sensor.", tools: [], maxSteps: 1 }));

/** Asks the describer agent, with the node's config, for a one-line alert per batch with overheating readings. */
async function describeOverheating(hot: Reading[], config: LangGraphRunnableConfig): Promise<string[]> {
  if (!hot.length) return [];
  const messages = [new HumanMessage(`Which sensors overheated, and when? One sentence per sensor.\n${hot.map((reading) => `[${reading.sensor}@${reading.seq}] ${reading.sensor} read ${reading.celsius} °C at reading ${reading.seq}, above the 80 °C limit.`).join("\n")}`)];
  const result = await describer.invoke({ messages }, config);
  return [(result.messages.at(-1)?.text ?? "").trim()];
}

/** One node: the readings stream through a bounded buffer in micro-batches into per-sensor statistics. */
export function createSensorStream(options: SensorStreamOptions = {}) {
  const timing = { lullAfter: options.lullAfter ?? 200, lullMs: options.lullMs ?? 300, stallMs: options.stallMs ?? 250 };
  const consume = async (state: State, config: LangGraphRunnableConfig) => {
    const count = Number(/\d+/.exec(state.task)?.[0] ?? 240);
    const sensors: Record<string, z.infer<typeof SensorStats>> = {};
    const anomalies: string[] = [];
    const alerts: string[] = [];
    const flow = { pulled: 0, sunk: 0 };
    const stream = createStreamProcessor<Reading, Reading>({
      name: "sensor-stream",
      source: readings(count, timing, () => {
        flow.pulled++;
        options.onFlow?.(flow);
      }),
      bufferSize: 32,
      batch: { size: 16, maxWaitMs: 50 },
      alertAfterMs: 100,
      process: async (batch) => {
        const hot = batch.filter((reading) => reading.celsius > 80);
        if (hot.length) anomalies.push(...(await describeOverheating(hot, config)));
        return batch;
      },
      // The store: quick, except for one stall, during which the buffer fills and the gateway is held back.
      sink: async (batch, context) => {
        await sleep(context.batchIndex === 3 ? timing.stallMs : 2);
        for (const { sensor, celsius } of batch) {
          const stats = (sensors[sensor] ??= { count: 0, min: celsius, max: celsius, mean: 0 });
          stats.mean = (stats.mean * stats.count + celsius) / (stats.count + 1);
          stats.count++;
          stats.min = Math.min(stats.min, celsius);
          stats.max = Math.max(stats.max, celsius);
        }
        flow.sunk += batch.length;
        options.onFlow?.(flow);
      },
      onAlert: (alert) => alerts.push(alert.message),
    });
    const report = await stream.run({ config, ...(config.signal ? { signal: config.signal } : {}) });
    for (const stats of Object.values(sensors)) stats.mean = Math.round(stats.mean * 10) / 10;
    return { report, sensors, anomalies, alerts };
  };
  const graph = new StateGraph(StreamExampleState).addNode("stream", observeNode("stream", consume)).addEdge(START, "stream").addEdge("stream", END).compile({ name: "stream" });
  return setStepBudget(graph, 4);
}

/** Stream processing for `conclave run --graph stream "240 readings"`. */
export const example = defineGraph({
  name: "stream",
  description: "Stream processing with backpressure: sensor readings through a bounded buffer in micro-batches (by size or time) into per-sensor statistics; a stalled store holds the source back and raises an alert; nothing is dropped",
  sample: "Stream 240 sensor readings",
  build: () => createSensorStream(),
  input: (task) => ({ task }),
  output: (state) => {
    const report = state.report!;
    const lines = [
      `Streamed ${report.sunk} of ${report.pulled} readings in ${report.batches} batches (${report.timeFlushes} cut by time); at most ${report.maxInFlight} in flight; ${report.deadLettered} dead-lettered${report.unprocessed ? `; ${report.unprocessed} left unprocessed by the abort` : ""}; ${report.durationMs} ms.`,
      ...Object.entries(state.sensors).sort(([a], [b]) => a.localeCompare(b)).map(([sensor, stats]) => `- ${sensor}: ${stats.count} readings, ${stats.min}–${stats.max} °C, mean ${stats.mean} °C`),
      ...(state.anomalies.length ? ["Overheating:", ...state.anomalies.map((line) => `- ${line}`)] : []),
      ...(state.alerts.length ? ["Alerts:", ...state.alerts.map((line) => `- ${line}`)] : []),
    ];
    return { answer: lines.join("\n"), citations: [], details: { ...report, alerts: state.alerts } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
