import { readFileSync } from "node:fs";
import type { Embeddings } from "@langchain/core/embeddings";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { compileGraph, createEmbeddings, defaultModel, defineGraph, definePrompt, describeModel, observeModelCall, observeNode, reportEvent, runContext } from "conclave";

export const LABELS = ["billing", "bug", "account", "other"] as const;
type Label = (typeof LABELS)[number];

/** Labelled tickets: the prompt's few-shot examples. */
export const EXAMPLES = JSON.parse(readFileSync(new URL("./samples/governance-ticket-examples.json", import.meta.url), "utf8")) as Array<{ ticket: string; label: Label }>;

/** The classification prompt: label definitions in the system message, the examples as turns, the ticket last. */
export const ticketPrompt = definePrompt({
  name: "ticket-label",
  version: "1",
  system: [
    "You label customer support tickets. Answer with exactly one label: {{labels}}.",
    "billing: charges, refunds, invoices and payments. bug: crashes, errors and features that do not work. account: signing in, passwords and profile settings. other: anything else.",
  ].join("\n"),
  template: "Ticket: {{ticket}}",
  variables: z.object({ ticket: z.string().trim().min(1, "a ticket needs some text"), labels: z.string() }),
  examples: EXAMPLES.map((example) => ({ input: { ticket: example.ticket }, output: example.label })),
});

export const TicketState = new StateSchema({
  ticket: z.string(),
  label: z.enum(LABELS).optional(),
  /** "model" when the reply named one label; "nearest example" when it did not and the most similar example's label was used. */
  decidedBy: z.enum(["model", "nearest example"]).optional(),
  reason: z.string().optional(),
  reply: z.string().optional(),
});
type State = typeof TicketState.State;

/**
 * Few-shot classification: `ticketPrompt.format()` checks the variables and renders the examples as
 * turns; the model's reply is read for one label. A reply that names none (or several) falls back to
 * the label of the most similar example, by embeddings, and says so.
 */
export function createTicketClassifier(options: { embeddings: Embeddings }) {
  let exampleVectors: Promise<number[][]> | undefined;
  const nearestExample = async (ticket: string) => {
    // Cache the examples' vectors only once they arrive: a cached rejection would break the
    // fallback for the life of the process, so a failed call clears the cache and the next run retries.
    if (!exampleVectors) {
      const pending = options.embeddings.embedDocuments(EXAMPLES.map((example) => example.ticket));
      exampleVectors = pending;
      pending.catch(() => {
        if (exampleVectors === pending) exampleVectors = undefined;
      });
    }
    const [query, vectors] = await Promise.all([options.embeddings.embedQuery(ticket), exampleVectors]);
    const scored = vectors.map((vector, index) => ({ example: EXAMPLES[index]!, similarity: cosine(query, vector) }));
    return scored.reduce((best, next) => (next.similarity > best.similarity ? next : best));
  };

  const classify = async (state: State, config: LangGraphRunnableConfig) => {
    const messages = await ticketPrompt.format({ ticket: state.ticket, labels: LABELS.join(", ") });
    const context = runContext(config);
    const model = context.model ?? defaultModel();
    const info = context.modelInfo ?? describeModel(model);
    const response = await observeModelCall(config, { model: info.name, provider: info.provider, messageCount: messages.length, request: { messages } }, (signal, backup) => (backup ?? model).invoke(messages, signal ? { ...config, signal } : config));
    const reply = response.text.trim();
    const named = LABELS.filter((label) => new RegExp(`\\b${label}\\b`, "i").test(reply));
    let result: Pick<State, "label" | "decidedBy" | "reason">;
    if (named.length === 1) {
      result = { label: named[0]!, decidedBy: "model", reason: `the model answered "${reply.slice(0, 80)}"` };
    } else {
      const nearest = await nearestExample(state.ticket);
      const why = named.length ? `named ${named.length} labels (${named.join(", ")})` : "named no label";
      result = { label: nearest.example.label, decidedBy: "nearest example", reason: `the model's reply ${why}; the most similar example, "${nearest.example.ticket}" (similarity ${nearest.similarity.toFixed(2)}), is ${nearest.example.label}` };
    }
    reportEvent(config, { type: "decision", by: "ticket-label", next: result.label!, reason: result.reason! });
    return { ...result, reply };
  };

  return new StateGraph(TicketState).addNode("classify", observeNode("classify", classify)).addEdge(START, "classify").addEdge("classify", END).compile({ name: "prompt-template" });
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  a.forEach((value, index) => {
    dot += value * b[index]!;
    normA += value * value;
    normB += b[index]! * b[index]!;
  });
  return normA && normB ? dot / Math.sqrt(normA * normB) : 0;
}

/** `conclave run --graph prompt-template "TICKET"`: a support ticket labelled by a typed few-shot prompt. */
export const example = defineGraph({
  name: "prompt-template",
  description: "Prompt template: a typed few-shot classification prompt (LangChain ChatPromptTemplate + FewShotChatMessagePromptTemplate, zod-checked variables); a reply without a label falls back to the nearest example",
  sample: "My card was charged twice for the same order. Please refund one of the payments.",
  build: (context) => createTicketClassifier({ embeddings: createEmbeddings(context.config, { cwd: context.cwd }).embeddings }),
  input: (task) => ({ ticket: task }),
  output: (state) => ({
    answer: `${state.label ?? "unlabelled"} (${state.decidedBy ?? "undecided"}: ${state.reason ?? ""})`,
    citations: [],
    details: { label: state.label ?? null, decidedBy: state.decidedBy ?? null, reply: state.reply ?? null, prompt: ticketPrompt.id, examples: EXAMPLES.length },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
