import { OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { createSensorStream, example } from "./stream.ts";

describe("the stream example on its sample, offline", () => {
  it("streams every reading once through the bounded buffer, alerts on the stalled store and flushes by time during the lull", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    // What example.build() makes, with the gateway and store measuring what is in flight (pulled, not yet stored) themselves.
    let most = 0;
    const graph = createSensorStream({ onFlow: ({ pulled, sunk }) => void (most = Math.max(most, pulled - sunk)) });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    const report = state.report!;
    expect(report).toMatchObject({ status: "done", pulled: 240, sunk: 240, deadLettered: 0 });
    // bufferSize 32 + batch size 16, measured outside the processor; the stalled store makes the producer reach it.
    expect(most).toBeLessThanOrEqual(48);
    expect(most).toBeGreaterThan(16);
    // The gateway's 300 ms lull is far past maxWaitMs (50): the readings before it are flushed by time.
    expect(report.timeFlushes).toBeGreaterThanOrEqual(1);
    expect(Object.values(state.sensors).map((stats) => stats.count)).toEqual([60, 60, 60, 60]);
    // The store's 250 ms stall is far past alertAfterMs (100): the alert fired and reached the run as a warning.
    expect(state.alerts[0]).toMatch(/^sensor-stream: the buffer \(32 items\) has been full for \d+ ms/);
    expect(seen.some((event) => event.type === "warning" && event.message === state.alerts[0])).toBe(true);
    // One model call per batch with an overheating reading: readings 17, 70, 123, 176 and 229.
    expect(usage.modelCalls).toBe(5);
    expect(state.anomalies.join("\n")).toContain("sensor-3 read 95 °C at reading 123");

    const answer = example.output(state);
    expect(answer.answer.split("\n")[0]).toMatch(/^Streamed 240 of 240 readings in \d+ batches \(\d+ cut by time\); at most \d+ in flight; 0 dead-lettered;/);
  });
});
