import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BaseMessage } from "@langchain/core/messages";
import { AIMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { ConfigError, ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent, GraphBuildContext } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createPaperSummariser, example } from "./paper-summariser.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const context = (): GraphBuildContext => ({ config: ConfigSchema.parse({}), cwd: root });

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

/** The offline model, slowed down and counting how many of its calls are in flight at once. */
class CountingOfflineModel extends OfflineChatModel {
  inFlight = 0;
  mostInFlight = 0;
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 40));
      return await super._generate(messages, options);
    } finally {
      this.inFlight--;
    }
  }
}

/** Whether `name` is written in `text`, ignoring case and spacing (markdown markers stay; names never span them). */
const writtenIn = (name: string, text: string) => text.replace(/\s+/g, " ").toLowerCase().includes(name.replace(/\s+/g, " ").toLowerCase());

describe("the paper summariser on the sample paper, offline", () => {
  it("summarises every section in parallel, one summary each, and writes both overviews", async () => {
    const model = new CountingOfflineModel({});
    const { events, seen } = recorder();
    const { state } = await run(example.build(context()), example.input(example.sample!), { model, events });

    const ids = state.sections.map((section) => section.id);
    expect(state.title).toBe("Retrieval-Augmented Generation for Open-Domain Question Answering: A Short Review");
    expect(state.sections.map((section) => section.title)).toEqual(["Abstract", "1 Introduction", "2 Background: Sparse and Dense Retrieval", "3 Retrieval-Augmented Architectures", "4 Evaluation", "5 Limitations and Open Problems", "6 Conclusion"]);
    expect(state.skipped.map((item) => item.title)).toEqual(["Front matter", "References"]);
    // One summary per section, none missing, none twice, none empty.
    expect(state.summaries.map((summary) => summary.section).sort()).toEqual([...ids].sort());
    for (const summary of state.summaries) expect(summary.summary.length, summary.section).toBeGreaterThan(40);

    // Parallel: every summarise task started in the same superstep, and their model calls overlapped.
    const starts = seen.filter((event) => event.type === "node-start" && event.node === "summarise");
    expect(starts).toHaveLength(ids.length);
    expect(new Set(starts.map((event) => (event.type === "node-start" ? event.step : -1))).size).toBe(1);
    expect(model.mostInFlight).toBeGreaterThanOrEqual(2);
    const summaryCalls = seen.filter((event) => event.type === "llm-call-start" && event.agent === "section-summariser");
    expect(summaryCalls.map((event) => (event.type === "llm-call-start" ? event.task : "")).sort()).toEqual([...ids].sort());

    expect(state.executiveSummary).toMatch(/\w{4,}.*\[s\d\]/);
    expect(state.technicalSummary).toMatch(/\w{4,}.*\[s\d\]/);
  });

  it("extracts entities that are grounded: each name is written in the section it is tied to", async () => {
    const { state } = await run(example.build(context()), example.input(example.sample!));
    const sections = new Map(state.sections.map((section) => [section.id, section.text]));
    expect(state.entities.length).toBeGreaterThanOrEqual(state.sections.length);
    for (const entity of state.entities) {
      expect(sections.has(entity.section), entity.section).toBe(true);
      expect(writtenIn(entity.name, sections.get(entity.section)!), `${entity.name} in ${entity.section}`).toBe(true);
    }
    expect(state.entities.map((entity) => entity.name)).toEqual(expect.arrayContaining(["REALM", "DPR", "Natural Questions"]));
    for (const relation of state.relations) expect(relation.subject).not.toBe(relation.object);
    // The sample's markdown really is what was split: every section's text comes from the file.
    const paper = readFileSync(`${root}/graphs/pipelines/samples/paper-sample.md`, "utf8");
    for (const section of state.sections) expect(paper).toContain(section.text);
  });

  it("prints both overviews and the knowledge graph's size", async () => {
    const { state } = await run(example.build(context()), example.input(example.sample!));
    const answer = example.output(state);
    expect(answer.answer).toContain("## Executive summary");
    expect(answer.answer).toContain("## Technical summary");
    expect(answer.answer).toMatch(/\d+ entities .* and \d+ relations from 7 sections/);
    expect(answer.details).toMatchObject({ title: state.title, entities: state.entities });
  });
});

const PAPER = `# Dense retrieval note

## Results

DPR outperformed BM25 by 9 to 19 points of top-20 accuracy on Natural Questions.`;

describe("the paper summariser with scripted models", () => {
  it("rejects an entity the section never names: the extractor is shown the problem and its corrected answer is checked again", async () => {
    const summariser = scriptedModel().reply("DPR beat BM25 on Natural Questions.");
    const writer = scriptedModel();
    for (let call = 0; call < 2; call++) {
      writer.respond((messages: BaseMessage[]) => new AIMessage(messages.at(-1)!.text.includes("executive") ? "Dense retrieval wins." : "DPR beats BM25 by 9 to 19 points [s1]."));
    }
    const extractor = scriptedModel()
      .answer({ entities: [{ name: "GPT-4", type: "model" }], relations: [] })
      .answer({
        entities: [
          { name: "DPR", type: "method" },
          { name: "BM25", type: "method" },
        ],
        relations: [
          { subject: "DPR", predicate: "outperforms", object: "BM25" },
          { subject: "DPR", predicate: "is evaluated on", object: "Natural Questions" },
          { subject: "BM25", predicate: "is", object: "BM25" },
        ],
      });
    const { seen, events } = recorder();
    const graph = createPaperSummariser(context(), { models: { summariser, writer, extractor } });
    const { state } = await run(graph, { source: PAPER }, { events, model: scriptedModel() });

    // The mentions offered are the section's own; the invented name was refused with the reason.
    const first = extractor.requests[0]!.at(-1)!.content;
    expect(first).toContain("Allowed mentions: ");
    expect(first).toMatch(/DPR; BM25|BM25; DPR/);
    expect(extractor.requests[1]!.at(-1)!.content).toContain("does not match the schema");
    expect(state.entities).toEqual([
      { name: "DPR", type: "method", section: "s1" },
      { name: "BM25", type: "method", section: "s1" },
      { name: "Natural Questions", type: "concept", section: "s1" },
    ]);
    expect(state.relations).toEqual([
      { subject: "DPR", predicate: "outperforms", object: "BM25", section: "s1" },
      { subject: "DPR", predicate: "is evaluated on", object: "Natural Questions", section: "s1" },
    ]);
    expect(state.incidents).toEqual(['section s1: dropped relation "BM25 | is | BM25" (links an entity to itself)']);
    expect(seen).toContainEqual(expect.objectContaining({ type: "decision", by: "extract", reason: expect.stringContaining("dropped 1") }));

    // The section went to the summariser as a cited passage; the overviews were written from its summary.
    expect(summariser.requests[0]!.at(-1)!.content).toContain("[s1] DPR outperformed BM25");
    expect(writer.requests.map((request) => request.at(-1)!.content)).toEqual(expect.arrayContaining([expect.stringContaining("[s1] DPR beat BM25 on Natural Questions.")]));
    expect([state.executiveSummary, state.technicalSummary].sort()).toEqual(["DPR beats BM25 by 9 to 19 points [s1].", "Dense retrieval wins."]);
  });

  it("refuses options it does not know, saying what is wrong", () => {
    expect(() => createPaperSummariser(context(), { maxMentions: 0 })).toThrow(ConfigError);
    expect(() => createPaperSummariser(context(), { chunkSize: 10 } as never)).toThrow(/chunkSize/);
  });
});
