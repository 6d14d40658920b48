import { fileURLToPath } from "node:url";
import { AIMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ConfigSchema, OfflineChatModel, runSuite, tokenOverlap } from "conclave";
import type { Sample, Scorer, TaskOutput } from "conclave";
import { describe, expect, it } from "vitest";
import { corpusSources } from "./corpus-sources.ts";
import { RagQaRow, extractResearch, ragQaSamples, suite } from "./rag-qa.ts";
import type { RagExpected } from "./rag-qa.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const samples = ragQaSamples();
const scorer = (name: string) => suite.scorers.find((candidate) => candidate.name === name)! as Scorer<string, RagExpected>;
const output = (text: string, extra: Partial<TaskOutput> = {}): TaskOutput => ({ output: undefined, text, usage: { modelCalls: 0, inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 }, latencyMs: 0, ...extra });
const score = (name: string, sample: Sample<string, RagExpected>, out: TaskOutput) => scorer(name).score({ sample, output: out }, { seed: 0 });

describe("the rag-qa dataset", () => {
  it("has 32 questions with stable ids, a reference answer, key facts and a difficulty", () => {
    expect(samples.map((sample) => sample.id)).toEqual(Array.from({ length: 32 }, (_, index) => `rag-${String(index + 1).padStart(3, "0")}`));
    const count = (difficulty: string) => samples.filter((sample) => sample.metadata?.difficulty === difficulty).length;
    expect({ easy: count("easy"), medium: count("medium"), hard: count("hard") }).toEqual({ easy: 12, medium: 10, hard: 10 });
    for (const sample of samples) {
      expect(sample.expected!.answer.length).toBeGreaterThan(0);
      expect(sample.expected!.facts.length).toBeGreaterThan(0);
    }
  });

  it("names only documents of the bundled corpus as sources", () => {
    const sources = corpusSources();
    for (const sample of samples) {
      const ids = String(sample.metadata?.sources).split(",").map((id) => id.trim());
      expect(ids.length, sample.id).toBeGreaterThan(0);
      for (const id of ids) expect(sources.has(id) && !id.includes("#"), `${sample.id}: ${id}`).toBe(true);
    }
  });

  it("takes each key fact from the text of its sources, as written there", () => {
    // rag-026's 228 years is computed (1915 - 1687), so the corpus cannot state it.
    const computed = new Set(["rag-026"]);
    const sources = corpusSources();
    for (const sample of samples.filter((candidate) => !computed.has(candidate.id))) {
      const text = String(sample.metadata?.sources).split(",").map((id) => sources.get(id.trim())).join("\n").toLowerCase();
      for (const fact of sample.expected!.facts) expect(text.includes(fact.toLowerCase()), `${sample.id}: ${fact}`).toBe(true);
    }
  });

  it("rejects a row citing a document the corpus does not have", () => {
    const row = { id: "rag-999", question: "Who built the Hanging Gardens?", answer: "Nobody knows", facts: ["Nobody"], difficulty: "easy", kind: "lookup" };
    expect(RagQaRow.safeParse({ ...row, sources: "apollo-11" }).success).toBe(true);
    expect(RagQaRow.safeParse({ ...row, sources: "apollo-11, hanging-gardens" }).success).toBe(false);
    expect(RagQaRow.safeParse({ ...row, sources: " , " }).success).toBe(false);
  });
});

describe("extractResearch", () => {
  it("turns retrieve results into ranked, de-duplicated passages and reads the answer's citations", () => {
    const messages = [
      new HumanMessage("When did Apollo 11 launch?"),
      new AIMessage({ content: "", tool_calls: [{ id: "a", name: "retrieve", args: { query: "Apollo 11 launch" } }] }),
      new ToolMessage({ tool_call_id: "a", name: "retrieve", content: "[apollo-11#1] Apollo 11 launched on 16 July 1969.\n\n[moon#4] Luna 9 landed in February 1966." }),
      new ToolMessage({ tool_call_id: "b", name: "calculator", content: "[not-a-passage] 42" }),
      new ToolMessage({ tool_call_id: "c", name: "retrieve", status: "error", content: "Error: [apollo-11#9] index unavailable" }),
      new ToolMessage({ tool_call_id: "d", name: "retrieve", content: "[moon#4] Luna 9 landed in February 1966.\n\n[apollo-11#4] The crew splashed down on 24 July 1969." }),
      new AIMessage('Apollo 11 launched on "16 July 1969". [apollo-11#1] It splashed down on 24 July 1969. [apollo-11#4]'),
    ];
    const { context, citations } = extractResearch({ messages });
    expect(context).toEqual([
      { id: "apollo-11#1", text: "Apollo 11 launched on 16 July 1969." },
      { id: "moon#4", text: "Luna 9 landed in February 1966." },
      { id: "apollo-11#4", text: "The crew splashed down on 24 July 1969." },
    ]);
    expect(citations).toEqual([
      { source: "apollo-11#1", text: 'Apollo 11 launched on "16 July 1969".' },
      { source: "apollo-11#4", text: "It splashed down on 24 July 1969." },
    ]);
    expect(extractResearch({})).toEqual({ context: [], citations: [] });
  });
});

describe("the rag-qa scorers", () => {
  const sample = samples.find((candidate) => candidate.id === "rag-023")!; // facts: "27 November 1852", "36"

  it("key-facts needs every key fact; token-f1 compares with the reference answer", async () => {
    expect((await score("key-facts", sample, output("Ada Lovelace died on 27 November 1852 at the age of 36."))).score).toBe(1);
    expect((await score("key-facts", sample, output("Ada Lovelace died on 27 November 1852."))).score).toBe(0);
    const text = "She died on 27 November 1852, aged 36.";
    expect((await score("token-f1", sample, output(text))).score).toBeCloseTo(tokenOverlap(text, sample.expected!.answer).f1);
  });

  it("citation-correctness accepts real passage and document ids and checks what they quote", async () => {
    const cited = (text: string) => score("citation-correctness", sample, output(text));
    expect((await cited('Lovelace died "on 27 November 1852". [ada-lovelace#4] She was 36. [ada-lovelace]')).score).toBe(1);
    expect((await cited('Lovelace died "on 28 November 1852". [ada-lovelace#4]')).score).toBe(0);
    expect((await cited("Lovelace died in 1852. [ada-lovelace#4] She was 36. [lovelace-biography]")).score).toBe(0.5);
  });
});

describe("a small rag-qa run (offline model)", () => {
  it("runs the research graph on 5 questions with no task errors and every scorer scoring", async () => {
    const report = await runSuite(suite, { config: ConfigSchema.parse({}), cwd: root, model: new OfflineChatModel({}), modelInfo: { provider: "offline", name: "conclave-offline", offline: true }, limit: 5 });
    expect(report.samples.map((sample) => sample.id)).toEqual(["rag-001", "rag-002", "rag-003", "rag-004", "rag-005"]);
    expect(report.usage.errors).toBe(0);
    for (const sample of report.samples) {
      expect(Object.keys(sample.scores).sort()).toEqual(["citation-correctness", "context-precision", "faithfulness", "hit@3", "key-facts", "token-f1"]);
      // A scorer that could not read the context or citations says "failed" in its reason.
      for (const name of Object.keys(sample.scores)) expect(sample.epochs[0]!.scores[name]!.reason).not.toMatch(/failed/);
    }
  });
});
