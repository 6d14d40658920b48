import { readFileSync } from "node:fs";
import { HumanMessage } from "@langchain/core/messages";
import { citedClaims, compileGraph, contentTerms, createAgentGraph, createMapReduceGraph, defineAgent, defineGraph, extractCitations, textChunks } from "conclave";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";

const summariser = createAgentGraph(defineAgent({ name: "summariser", instructions: "You summarise one part of a longer text in at most two sentences, keeping names and numbers exactly. Cite the part by its [id] after each sentence.", tools: [], maxSteps: 1 }));
const combiner = createAgentGraph(defineAgent({ name: "combiner", instructions: "You combine summaries of consecutive parts of a text into one summary of at most three sentences, keeping names, numbers and the [id] citations of the sentences you use.", tools: [], maxSteps: 1 }));

async function ask(agent: typeof summariser, prompt: string, config: LangGraphRunnableConfig): Promise<string> {
  const result = await agent.invoke({ messages: [new HumanMessage(prompt)] }, config);
  return result.messages.at(-1)?.text.trim() ?? "";
}

/** The most frequent content words of some texts (inflections folded), shown as first written: what the summaries are about. */
export function topics(texts: readonly string[], count = 5): string[] {
  const tally = new Map<string, { word: string; count: number }>();
  for (const word of texts.join(" ").replace(/\[[^\]]*\]/g, " ").match(/\p{L}[\p{L}'’-]+/gu) ?? []) {
    const stem = contentTerms(word.toLowerCase())[0];
    if (!stem) continue;
    const entry = tally.get(stem) ?? { word: word.toLowerCase(), count: 0 };
    entry.count += 1;
    tally.set(stem, entry);
  }
  // Map order is first use, and sort is stable: ties go to the word met first.
  return [...tally.values()].sort((a, b) => b.count - a.count).slice(0, count).map((entry) => entry.word);
}

/**
 * Summaries of summaries: each chunk is summarised with its `[chunk-N]` citation; each reduce
 * lists the summaries' sentences one per line under the chunk they cite, so the final summary
 * still says which part of the text each sentence comes from.
 */
export function createSummaryOfSummaries(options: { chunkSize?: number; concurrency?: number; fanIn?: number } = {}) {
  return createMapReduceGraph({
    split: textChunks({ chunkSize: options.chunkSize ?? 400 }),
    map: (chunk: string, { index, total, config }) => ask(summariser, `Summarise part ${index + 1} of ${total} in at most two sentences.\n\n[chunk-${index + 1}] ${chunk.replace(/\s+/g, " ")}`, config),
    reduce: (summaries: string[], { config }) => {
      const lines = summaries.flatMap((summary) => citedClaims(summary).map(({ claim, sources }) => `[${sources[0] ?? "summary"}] ${claim}`));
      return ask(combiner, `Combine these summaries into one of at most three sentences, keeping what they say about: ${topics(summaries).join(", ")}.\n\n${lines.join("\n")}`, config);
    },
    concurrency: options.concurrency ?? 3,
    fanIn: options.fanIn ?? 3,
  });
}

/** `conclave run --graph map-reduce` summarises its sample (or the text given as the task) into a summary of summaries. */
export const example = defineGraph({
  name: "map-reduce",
  description: "Map-reduce: split a long text into chunks, summarise them in parallel (at most 3 at a time), then combine summaries in groups of 3 until one is left",
  sample: readFileSync(new URL("./samples/quality-map-reduce.md", import.meta.url), "utf8").trim(),
  build: () => createSummaryOfSummaries(),
  input: (task) => ({ input: task }),
  output: (state) => ({
    answer: state.result ?? "",
    citations: extractCitations(state.result ?? ""),
    details: { chunks: state.chunks.length, levels: state.levels, chunkSummaries: state.mapped },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
