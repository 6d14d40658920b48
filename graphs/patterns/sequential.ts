import { readFileSync } from "node:fs";
import { HumanMessage } from "@langchain/core/messages";
import { compileGraph, createAgentGraph, createSequentialGraph, defineAgent, defineGraph, extractCitations, splitSentences } from "conclave";

/** What `extract` finds in the raw text: its title and its sentences. */
interface Extracted {
  title: string;
  sentences: string[];
}

/** What `clean` keeps, and how many sentences it dropped. */
interface Cleaned extends Extracted {
  dropped: string[];
}

/** What the pipeline ends with. */
export interface Summary {
  title: string;
  summary: string;
  kept: number;
  dropped: number;
}

// Mail furniture, not content.
const BOILERPLATE = /^(?:from|to|cc|subject):|sent from my|unsubscribe|^--\s*$/i;

/** Raw text (HTML or plain) → title and sentences. Pure: no model needed to read markup. */
function extract(raw: string): Extracted {
  const title = /<h[1-3][^>]*>([\s\S]*?)<\/h[1-3]>/i.exec(raw)?.[1]?.trim() ?? raw.trim().split("\n")[0]!.replace(/<[^>]+>/g, "").trim();
  const body = raw.replace(/<h[1-3][^>]*>[\s\S]*?<\/h[1-3]>/gi, "\n").replace(/<\/(?:p|div|li)>|<br\s*\/?>/gi, "\n").replace(/<[^>]+>/g, " ").replace(/&nbsp;/g, " ").replace(/&amp;/g, "&");
  return { title, sentences: body.split(/\n+/).flatMap((paragraph) => splitSentences(paragraph)) };
}

/** Collapses whitespace, drops mail boilerplate and repeated sentences. */
function clean({ title, sentences }: Extracted): Cleaned {
  const seen = new Set<string>();
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const raw of sentences) {
    const sentence = raw.replace(/\s+/g, " ").trim();
    const key = sentence.toLowerCase();
    if (!sentence) continue;
    if (BOILERPLATE.test(sentence) || seen.has(key)) dropped.push(sentence);
    else kept.push(sentence);
    seen.add(key);
  }
  return { title, sentences: kept, dropped };
}

const summariser = createAgentGraph(
  defineAgent({
    name: "summariser",
    instructions: "You summarise documents faithfully: at most three sentences, keeping the numbers, times and decisions exactly as written. Cite the passages you use by their [id].",
    tools: [],
    maxSteps: 1,
  }),
);

/** extract → clean → summarise: two pure stages and one model call, each a checkpointed stage. */
export function createSummaryPipeline() {
  return createSequentialGraph<string>({
    name: "sequential-pipeline",
    stages: [
      { name: "extract", run: ({ input }) => extract(input) },
      { name: "clean", run: ({ value }) => clean(value as Extracted) },
      {
        name: "summarise",
        run: async ({ value }, { config }): Promise<Summary> => {
          const { title, sentences, dropped } = value as Cleaned;
          // The request first, then each sentence as a cited passage, so the summary can point back to it.
          const passages = sentences.map((sentence, index) => `[doc#${index + 1}] ${sentence}`).join("\n");
          const result = await summariser.invoke({ messages: [new HumanMessage(`Summarise "${title}" in at most three sentences.\n\n${passages}`)] }, config);
          return { title, summary: result.messages.at(-1)?.text.trim() ?? "", kept: sentences.length, dropped: dropped.length };
        },
      },
    ],
  });
}

/** A messy incident e-mail summarised by a three-stage pipeline (`conclave run --graph sequential-pipeline`). */
export const example = defineGraph({
  name: "sequential-pipeline",
  description: "Sequential pipeline: extract → clean → summarise a text; every stage is a checkpoint, and a failed run resumes at the failed stage",
  sample: readFileSync(new URL("./samples/flow-sequential.txt", import.meta.url), "utf8"),
  build: () => createSummaryPipeline(),
  input: (task) => ({ input: task }),
  output: (state) => {
    const summary = state.value as Summary | undefined;
    return {
      answer: summary ? `${summary.title}\n\n${summary.summary}` : "",
      citations: extractCitations(summary?.summary ?? ""),
      details: { stages: state.completed, kept: summary?.kept ?? 0, dropped: summary?.dropped ?? 0 },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
