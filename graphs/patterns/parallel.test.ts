import type { BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { ConfigSchema, OfflineChatModel, run } from "conclave";
import { describe, expect, it } from "vitest";
import { createTextAnalysis, example } from "./parallel.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

/** The offline model, but it takes `delayMs` to answer and gives up when its signal aborts. */
class SlowOfflineModel extends OfflineChatModel {
  constructor(private readonly delayMs: number) {
    super({});
  }
  override async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.delayMs);
      options.signal?.addEventListener("abort", () => (clearTimeout(timer), reject(new Error("aborted"))));
    });
    return super._generate(messages, options);
  }
}

describe("the parallel-analysis example on its sample, offline", () => {
  it("merges statistics, keywords and a summary of the text", async () => {
    const { state } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}) });
    const report = state.output!;
    expect(report.failed).toEqual([]);
    expect(report.statistics).toEqual({ words: 94, sentences: 6, wordsPerSentence: 15.7, readingSeconds: 25 });
    expect(report.keywords?.map((keyword) => keyword.word)).toEqual(expect.arrayContaining(["council", "park"]));
    expect(report.summary).toContain("rail yard");
    expect(report.summary).toMatch(/\[text#\d\]/);
    expect(state.outcomes.map((outcome) => outcome.status)).toEqual(["ok", "ok", "ok"]);

    const answer = example.output(state);
    expect(answer.answer).toMatch(/^Summary: .*\nKeywords: council \(2\), park \(2\).*\nStatistics: 94 words in 6 sentences/s);
    expect(answer.citations.map((citation) => citation.source)).toContain("text#1");
  });

  it("keeps the other analyses when the summary times out", async () => {
    const { state } = await run(createTextAnalysis({ timeoutMs: 100 }), example.input(example.sample!), { model: new SlowOfflineModel(5_000) });
    expect(state.output?.summary).toBeUndefined();
    expect(state.output?.failed).toEqual([{ branch: "summary", status: "timeout", error: "timed out after 100 ms" }]);
    expect(state.output?.statistics?.words).toBe(94);
    expect(example.output(state).answer).toMatch(/summary: timed out$/);
  });
});
