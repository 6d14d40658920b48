import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, expectTypeOf, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, defineAgent, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { balancedGroups, createMapReduceGraph, textChunks } from "./map-reduce.ts";

/** Counts calls in flight: the measured maximum is what the limit is judged by (no timing asserts). */
function inFlightCounter() {
  let now = 0;
  const counter = { max: 0, calls: 0 };
  const around = async <T>(work: () => Promise<T>): Promise<T> => {
    now++;
    counter.calls++;
    counter.max = Math.max(counter.max, now);
    try {
      return await work();
    } finally {
      now--;
    }
  };
  return Object.assign(counter, { around });
}

const numbers = (count: number) => Array.from({ length: count }, (_, index) => index);

describe("map-reduce", () => {
  it("never has more than `concurrency` maps in flight, and reaches it", async () => {
    const maps = inFlightCounter();
    const graph = createMapReduceGraph({
      split: (count: number) => numbers(count),
      // Varied durations, so calls finish out of order and slots free up at different times.
      map: (chunk: number) => maps.around(async () => {
        // Long enough that the first calls are still running when the limit's worth have started, even on a loaded machine.
        await sleep(30 + ((chunk * 7) % 5) * 5);
        return chunk * 10;
      }),
      reduce: (results: number[]) => results.reduce((sum, value) => sum + value, 0),
      concurrency: 3,
      fanIn: 4,
    });
    const { state } = await run(graph, { input: 12 });
    expect(maps.calls).toBe(12);
    expect(maps.max).toBe(3);
    expect(state.result).toBe(numbers(12).reduce((sum, value) => sum + value * 10, 0));
  });

  it("reduces 9 chunks at fan-in 3 in 3 + 1 reduce calls, as summaries of summaries", async () => {
    const reduceCalls: Array<{ level: number; group: number; results: string[] }> = [];
    const { events, seen } = recorder();
    const graph = createMapReduceGraph({
      split: (text: string) => text.split(" "),
      map: (word: string) => word.toUpperCase(),
      reduce: (results: string[], { level, group }) => {
        reduceCalls.push({ level, group, results });
        return `(${results.join("+")})`;
      },
      fanIn: 3,
    });
    const { state } = await run(graph, { input: "a b c d e f g h i" }, { events });
    expect(reduceCalls).toHaveLength(4);
    expect(reduceCalls.filter((call) => call.level === 1).map((call) => call.results)).toEqual([["A", "B", "C"], ["D", "E", "F"], ["G", "H", "I"]]);
    expect(reduceCalls.filter((call) => call.level === 2)).toEqual([{ level: 2, group: 0, results: ["(A+B+C)", "(D+E+F)", "(G+H+I)"] }]);
    expect(state.result).toBe("((A+B+C)+(D+E+F)+(G+H+I))");
    expect(state.levels).toEqual([
      { level: 0, inputs: 9, outputs: 9 },
      { level: 1, inputs: 9, outputs: 3 },
      { level: 2, inputs: 3, outputs: 1 },
    ]);
    const rounds = seen.flatMap((event) => (event.type === "round-end" ? [`${event.loop} ${event.round}`] : []));
    expect(rounds).toEqual(["map 1", "reduce 1", "reduce 2"]);
    expect(seen.filter((event) => event.type === "decision").map((event) => event.type === "decision" && event.next)).toEqual(["reduce", "finish"]);
  });

  it("keeps the chunks' order whatever order the calls finish in", async () => {
    const finished: number[] = [];
    const graph = createMapReduceGraph({
      split: () => numbers(6),
      // The first chunk is the slowest: calls finish in reverse.
      map: async (chunk: number) => {
        await sleep((6 - chunk) * 8);
        finished.push(chunk);
        return `m${chunk}`;
      },
      reduce: async (results: string[], { group }) => {
        await sleep(group === 0 ? 20 : 0);
        return results.join(",");
      },
      concurrency: 6,
      fanIn: 2,
    });
    const { state } = await run(graph, { input: null });
    expect(finished).not.toEqual(numbers(6));
    expect(state.mapped).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    // 6 → 3 → 2 → 1, each level in order.
    expect(state.result).toBe("m0,m1,m2,m3,m4,m5");
    expect(state.levels.map((level) => level.outputs)).toEqual([6, 3, 2, 1]);
  });

  it("holds reduce calls to the limit too", async () => {
    const reduces = inFlightCounter();
    const graph = createMapReduceGraph({
      split: () => numbers(16),
      map: (chunk: number) => chunk,
      reduce: (results: number[]) => reduces.around(async () => {
        await sleep(25);
        return Math.max(...results);
      }),
      concurrency: 2,
      fanIn: 2,
    });
    const { state } = await run(graph, { input: undefined });
    expect(state.result).toBe(15);
    expect(reduces.calls).toBe(15);
    expect(reduces.max).toBe(2);
  });

  it("runs every chunk at concurrency 1, one at a time, however many there are", async () => {
    const maps = inFlightCounter();
    const graph = createMapReduceGraph({
      split: () => numbers(60),
      map: (chunk: number) => maps.around(async () => {
        await sleep(1);
        return chunk;
      }),
      reduce: (results: number[]) => results.reduce((sum, value) => sum + value, 0),
      concurrency: 1,
      fanIn: 10,
    });
    const { state } = await run(graph, { input: null });
    expect([maps.calls, maps.max]).toEqual([60, 1]);
    expect(state.mapped).toEqual(numbers(60));
    expect(state.result).toBe((59 * 60) / 2);
  });

  it("runs agents on labelled chunks and summaries, for summaries of summaries", async () => {
    const mapModel = scriptedModel().reply("S1").reply("S2").reply("S3").reply("S4");
    const reduceModel = scriptedModel().reply("S12").reply("S34").reply("ALL");
    const summariser = defineAgent({ name: "summariser", instructions: "Summarise the part.", tools: [], maxSteps: 1, model: mapModel });
    const combiner = defineAgent({ name: "combiner", instructions: "Combine the summaries.", tools: [], maxSteps: 1, model: reduceModel });
    const graph = createMapReduceGraph({ split: (text: string) => text.split("|"), map: summariser, reduce: combiner, fanIn: 2, concurrency: 1 });
    const { state, usage } = await run(graph, { input: "one|two|three|four" });
    // concurrency 1 makes the call order the chunk order, so the scripted replies line up.
    expect(mapModel.requests.map((request) => request.at(-1)!.content)).toEqual(["[chunk-1] one", "[chunk-2] two", "[chunk-3] three", "[chunk-4] four"]);
    expect(reduceModel.requests.map((request) => request.at(-1)!.content)).toEqual(["[summary-1] S1\n\n[summary-2] S2", "[summary-1] S3\n\n[summary-2] S4", "[summary-1] S12\n\n[summary-2] S34"]);
    expect(state.result).toBe("ALL");
    expect(usage.modelCalls).toBe(7);
    expectTypeOf(state.result).toEqualTypeOf<string | undefined>();
  });

  it("needs no reduce for one chunk, and has no result for none", async () => {
    let reduced = 0;
    const options = { map: (chunk: string) => chunk.length, reduce: (results: number[]) => (reduced++, results[0]!) };
    expect((await run(createMapReduceGraph({ ...options, split: () => ["abc"] }), { input: "" })).state.result).toBe(3);
    const empty = await run(createMapReduceGraph({ ...options, split: () => [] }), { input: "" });
    expect(empty.state.result).toBeUndefined();
    expect(reduced).toBe(0);
  });

  it("groups evenly and splits text at natural boundaries", async () => {
    expect(balancedGroups(numbers(10), 3).map((group) => group.length)).toEqual([3, 3, 2, 2]);
    expect(balancedGroups(numbers(9), 3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
    const chunks = await textChunks({ chunkSize: 40 })("First paragraph is here.\n\nSecond paragraph is here too.\n\nThird.");
    expect(chunks).toEqual(["First paragraph is here.", "Second paragraph is here too.\n\nThird."]);
  });

  it("rejects options it cannot run", () => {
    const base = { split: () => ["a"], map: (chunk: string) => chunk, reduce: (results: string[]) => results.join("") };
    expect(() => createMapReduceGraph({ ...base, fanIn: 1 })).toThrow(/fanIn: must be at least 2/);
    expect(() => createMapReduceGraph({ ...base, concurrency: 0 })).toThrow(DefinitionError);
    expect(() => createMapReduceGraph({ ...base, map: "x" as never })).toThrow(/map: must be a function/);
  });
});

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}
