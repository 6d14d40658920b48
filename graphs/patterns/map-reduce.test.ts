import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createSummaryOfSummaries, example, topics } from "./map-reduce.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the map-reduce example on its sample, offline", () => {
  it("summarises nine paragraphs into a summary of summaries that cites its chunks", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const { state, usage } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}), events });
    expect(state.chunks).toHaveLength(9);
    expect(state.levels).toEqual([
      { level: 0, inputs: 9, outputs: 9 },
      { level: 1, inputs: 9, outputs: 3 },
      { level: 2, inputs: 3, outputs: 1 },
    ]);
    // 9 summaries, then 3 + 1 combinations.
    expect(usage.byAgent.summariser?.modelCalls).toBe(9);
    expect(usage.byAgent.combiner?.modelCalls).toBe(4);
    // Each chunk's summary cites that chunk, in chunk order.
    state.mapped.forEach((summary, index) => expect(summary).toContain(`[chunk-${index + 1}]`));
    const answer = example.output(state);
    expect(answer.answer).toBe(state.result);
    expect(answer.citations.length).toBeGreaterThan(0);
    for (const { source } of answer.citations) expect(source).toMatch(/^chunk-[1-9]$/);
    expect(answer.answer.length).toBeLessThan(example.sample!.length / 3);
    expect(answer.answer).toMatch(/barrier/);

    // Never more than 3 summaries in flight, read from the order of the call events.
    let inFlight = 0;
    let most = 0;
    for (const event of seen) {
      if (event.type === "llm-call-start" && event.agent === "summariser") most = Math.max(most, ++inFlight);
      if (event.type === "llm-call-end" && event.agent === "summariser") inFlight--;
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(3);
  });

  it("asks the combiner about what the summaries share, with one cited sentence a line", async () => {
    const model = scriptedModel();
    for (let index = 1; index <= 4; index++) model.reply(`The barrier part ${index} is done. [chunk-${index}] Gates rise. [chunk-${index}]`);
    model.reply("The barrier was built in parts. [chunk-1]").reply("Its gates rise. [chunk-3]").reply("The barrier was built and its gates rise. [chunk-1] [chunk-3]");
    const text = Array.from({ length: 4 }, (_, index) => `Paragraph ${index + 1} about the barrier. ${"Words fill the paragraph. ".repeat(12)}`).join("\n\n");
    const { state } = await run(createSummaryOfSummaries({ concurrency: 1, fanIn: 2 }), { input: text }, { model });
    expect(state.result).toBe("The barrier was built and its gates rise. [chunk-1] [chunk-3]");
    const firstCombine = model.requests[4]!.at(-1)!.content;
    expect(firstCombine).toContain("keeping what they say about: barrier, part, done, gates, rise.");
    expect(firstCombine).toContain("[chunk-1] The barrier part 1 is done.\n[chunk-1] Gates rise.\n[chunk-2] The barrier part 2 is done.");
  });

  it("finds the topics summaries share", () => {
    expect(topics(["The gates rise. [chunk-1]", "Gates close; the river rises. [chunk-2]"], 2)).toEqual(["gates", "rise"]);
  });
});
