import { readFileSync } from "node:fs";
import { HumanMessage } from "@langchain/core/messages";
import { compileGraph, contentTerms, createAgentGraph, createParallelGraph, defineAgent, defineGraph, extractCitations, splitSentences } from "conclave";
import type { BranchContext, BranchOutcome } from "conclave";

/** Counts: words, sentences, average sentence length and reading time (at 230 words a minute). */
function statistics(text: string) {
  const words = text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
  const sentences = splitSentences(text);
  return { words: words.length, sentences: sentences.length, wordsPerSentence: Math.round((words.length / Math.max(1, sentences.length)) * 10) / 10, readingSeconds: Math.ceil((words.length / 230) * 60) };
}

/** The most frequent content words (stopwords out, inflections folded: "votes" and "voted" count together). */
function keywords(text: string, count = 5) {
  const tally = new Map<string, { word: string; count: number; first: number }>();
  for (const [index, word] of (text.toLowerCase().match(/\p{L}[\p{L}'’-]+/gu) ?? []).entries()) {
    const stem = contentTerms(word)[0];
    if (!stem) continue;
    const entry = tally.get(stem) ?? { word, count: 0, first: index };
    entry.count += 1;
    tally.set(stem, entry);
  }
  return [...tally.values()].sort((a, b) => b.count - a.count || a.first - b.first).slice(0, count).map(({ word, count: seen }) => ({ word, count: seen }));
}

const summariser = createAgentGraph(defineAgent({ name: "summariser", instructions: "Summarise the text in at most two sentences, keeping its numbers exactly. Cite the passages you use by their [id].", tools: [], maxSteps: 1 }));

/** A model call in a branch: the branch's signal goes with it, so its timeout cancels the request. */
async function summary(text: string, { config, signal }: BranchContext) {
  const passages = splitSentences(text).map((sentence, index) => `[text#${index + 1}] ${sentence}`).join("\n");
  const result = await summariser.invoke({ messages: [new HumanMessage(`Summarise this text in at most two sentences.\n\n${passages}`)] }, { ...config, signal });
  return result.messages.at(-1)?.text.trim() ?? "";
}

/** What the three analyses merge into. */
export interface TextReport {
  statistics?: ReturnType<typeof statistics>;
  keywords?: ReturnType<typeof keywords>;
  summary?: string;
  failed: Array<Pick<BranchOutcome, "branch" | "status" | "error">>;
}

/** Three independent analyses of one text at once; whichever fail are listed, the rest are merged. */
export function createTextAnalysis(options: { timeoutMs?: number } = {}) {
  return createParallelGraph({
    name: "parallel-analysis",
    branches: { statistics, keywords: (text: string) => keywords(text), summary },
    timeoutMs: options.timeoutMs ?? 30_000,
    policy: "collect-errors",
    merge: (values, { errors }): TextReport => ({ ...values, failed: errors.map(({ branch, status, error }) => ({ branch, status, error })) }),
  });
}

function render(report: TextReport): string {
  const lines = [];
  if (report.summary !== undefined) lines.push(`Summary: ${report.summary}`);
  if (report.keywords) lines.push(`Keywords: ${report.keywords.map(({ word, count }) => `${word} (${count})`).join(", ")}`);
  if (report.statistics) lines.push(`Statistics: ${report.statistics.words} words in ${report.statistics.sentences} sentences (${report.statistics.wordsPerSentence} per sentence), about ${report.statistics.readingSeconds} s to read`);
  for (const failure of report.failed) lines.push(`${failure.branch}: ${failure.status === "timeout" ? "timed out" : `failed (${failure.error})`}`);
  return lines.join("\n");
}

/** `conclave run --graph parallel-analysis "TEXT"`: statistics, keywords and a summary of the text, in parallel. */
export const example = defineGraph({
  name: "parallel-analysis",
  description: "Parallel fan-out/merge: statistics, keywords and a model summary of one text at once, each branch with a timeout; failures are listed, successes merged",
  sample: readFileSync(new URL("./samples/flow-parallel.txt", import.meta.url), "utf8").trim(),
  build: () => createTextAnalysis(),
  input: (task) => ({ input: task }),
  output: (state) => {
    const report = state.output;
    return {
      answer: report ? render(report) : "",
      citations: extractCitations(report?.summary ?? ""),
      details: { report: report ?? null, branches: state.outcomes.map(({ branch, status, durationMs }) => ({ branch, status, durationMs })) },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
