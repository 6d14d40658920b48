import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { END, START, StateGraph } from "@langchain/langgraph";
import { z } from "zod";
import { DeadLetterQueue, approvalGate, corpusIndex, createChainOfThoughtGraph, createEmbeddings, createParallelGraph, createRagGraph, createValidationChain, observeNode, reportEvent, setStepBudget } from "conclave";
import type { GraphBuildContext } from "conclave";
import { classify, entities, grounding, metadata, summarise } from "./analysis.ts";
import { DocumentState } from "./state.ts";
import type { Analysis, DocumentStateType, DocumentUpdate } from "./state.ts";

export interface DocumentProcessorOptions {
  /** Reference documents for the RAG context (default: the bundled policy notes). */
  knowledgeBase?: string;
  /** Below this classification confidence a person reviews the document (default 0.85). */
  reviewBelow?: number;
  /** Where filed records are written (default `<cwd>/.conclave/documents`). */
  outDir?: string;
  /** Called for every event the pipeline emits ("classified", "filed", …). */
  onEvent?: (event: { kind: string; documentId: string; detail: string }) => void;
}

const KB = new URL("../samples/document-kb/", import.meta.url).pathname;

/** What the validation chain checks: the analysis as a record. */
const RecordSchema = z.object({
  id: z.string(),
  type: z.string(),
  summary: z.string().min(1, "the summary is empty"),
  amounts: z.array(z.object({ value: z.number(), currency: z.string() })),
  text: z.string(),
});

/**
 * The enterprise document processor, composed from the pattern library: RAG context from the
 * policy notes → parallel metadata / summary / classification / entities → chain-of-thought
 * insights → validation chain (schema, content, business rules; rejections to the dead-letter
 * queue) → a human gate when the classification is less than `reviewBelow` sure → store →
 * emitted events. Each step is a node, so a checkpointed run resumes at the step that failed.
 */
export function createDocumentProcessor(context: GraphBuildContext, options: DocumentProcessorOptions = {}) {
  const reviewBelow = options.reviewBelow ?? 0.85;
  const outDir = resolve(context.cwd, options.outDir ?? ".conclave/documents");
  const { embeddings } = createEmbeddings(context.config);
  const rag = createRagGraph({ index: corpusIndex({ folder: options.knowledgeBase ?? KB, embeddings, cacheDir: join(context.cwd, ".conclave/index") }), k: 3, tokenBudget: 400 });
  const emit = (config: LangGraphRunnableConfig, state: DocumentStateType, kind: string, detail: string): string => {
    const documentId = state.document?.id ?? "?";
    reportEvent(config, { type: "decision", by: "document-processor", next: kind, reason: `${documentId}: ${detail}` });
    options.onEvent?.({ kind, documentId, detail });
    return `${kind}: ${detail}`;
  };

  const analyse = createParallelGraph({
    branches: {
      metadata: (text: string) => metadata(text),
      summary: (text: string, { config }) => summarise("document", text, config),
      classification: (text: string) => classify(text),
      entities: (text: string) => entities(text),
    },
    policy: "collect-errors",
    timeoutMs: 60_000,
    merge: (values, { errors }): Analysis => ({
      metadata: values.metadata ?? { title: "", words: 0, dates: [], amounts: [], references: [] },
      summary: values.summary ?? "",
      classification: values.classification ?? { label: "note", confidence: 0, reason: "classification failed" },
      entities: values.entities ?? [],
      failed: errors.map((error) => error.branch),
    }),
    name: "analysis",
  });
  const insights = createChainOfThoughtGraph({ maxSteps: 3, name: "insights", instructions: "You analyse business documents for a finance and legal team. Use only the document, its analysis and the policy context." });
  const validation = createValidationChain({
    name: "document-validation",
    schema: RecordSchema,
    content: [{ name: "summary-grounded", check: (record) => (grounding(record.summary, record.text) < 0.6 ? `the summary is not grounded in the document (${Math.round(grounding(record.summary, record.text) * 100)}% of its words appear in it)` : undefined) }],
    rules: [
      { name: "amounts-positive", check: (record) => (record.amounts.some((amount) => amount.value <= 0) ? "an amount is zero or negative" : undefined) },
      { name: "invoice-has-amount", check: (record) => (record.type === "invoice" && record.amounts.length === 0 ? "an invoice must state an amount" : undefined) },
    ],
    deadLetters: () => new DeadLetterQueue({ path: join(context.cwd, ".conclave/dlq.sqlite") }),
  });

  const load = (state: DocumentStateType) => {
    const path = resolve(context.cwd, state.source);
    const fromFile = state.source.length < 500 && existsSync(path);
    const text = fromFile ? readFileSync(path, "utf8") : state.source;
    return { document: { id: fromFile ? basename(path).replace(/\.[^.]+$/, "") : `doc-${text.length}`, text } };
  };
  const contextNode = async (state: DocumentStateType, config: LangGraphRunnableConfig): Promise<DocumentUpdate> => {
    const result = await rag.invoke({ question: `Which policies apply to this document? ${state.document!.text.slice(0, 400)}` }, config);
    return { context: result.retrieved, contextAnswer: result.answer };
  };
  const analyseNode = async (state: DocumentStateType, config: LangGraphRunnableConfig): Promise<DocumentUpdate> => {
    const result = await analyse.invoke({ input: state.document!.text }, config);
    const analysis = result.output as Analysis;
    const { label, confidence } = analysis.classification;
    return { analysis, emitted: [...state.emitted, emit(config, state, "classified", `${label} (confidence ${confidence})`)] };
  };
  const insightsNode = async (state: DocumentStateType, config: LangGraphRunnableConfig): Promise<DocumentUpdate> => {
    const { analysis } = state;
    const task = [`What should the team do with this ${analysis!.classification.label}?`, `Document: ${state.document!.text}`, `Policy context: ${state.context.map((passage) => `[${passage.id}] ${passage.text}`).join(" ")}`].join("\n");
    const result = await insights.invoke({ task }, config);
    return { insights: { plan: result.plan, answer: result.answer ?? "" } };
  };
  const validateNode = async (state: DocumentStateType, config: LangGraphRunnableConfig): Promise<DocumentUpdate> => {
    const { analysis, document } = state;
    const record = { id: document!.id, type: analysis!.classification.label, summary: analysis!.summary, amounts: analysis!.metadata.amounts, text: document!.text };
    const result = await validation.invoke({ items: [record] }, config);
    const outcome = result.results[0]!;
    return { validation: outcome, emitted: [...state.emitted, emit(config, state, outcome.status === "accepted" ? "validated" : "rejected", outcome.reasons.join("; ") || "all checks passed")] };
  };
  const review = approvalGate<DocumentStateType>({
    name: "document-review",
    when: (state) => state.validation?.status === "accepted" && (state.analysis?.classification.confidence ?? 0) < reviewBelow,
    summarize: (state) => `file ${state.document?.id} as "${state.analysis?.classification.label}" (confidence ${state.analysis?.classification.confidence}, below ${reviewBelow}): ${state.analysis?.summary.slice(0, 200)}`,
    proposal: (state) => state.analysis?.classification.label,
    onApprove: (_state, { actor }) => ({ review: { decision: "approved", by: actor } }),
    onEdit: (state, { edit, actor }) => ({ review: { decision: "edited", by: actor }, analysis: { ...state.analysis!, classification: { label: String(edit), confidence: 1, reason: `set by ${actor}` } } }),
    onReject: (_state, { reason, actor }) => ({ review: { decision: "rejected", by: actor, reason } }),
  });
  const storeNode = (state: DocumentStateType, config: LangGraphRunnableConfig): DocumentUpdate => {
    const rejected = state.validation?.status !== "accepted" || state.review?.decision === "rejected";
    const status = rejected ? "rejected" : "filed";
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, `${state.document!.id}.json`);
    const { source: _source, emitted: _emitted, ...record } = state;
    writeFileSync(path, `${JSON.stringify({ status, ...record }, null, 2)}\n`);
    return { stored: { path, status }, review: state.review ?? { decision: "not needed" }, emitted: [...state.emitted, emit(config, state, status, `${state.analysis?.classification.label} → ${path}`)] };
  };

  const graph = new StateGraph(DocumentState)
    .addNode("load", observeNode("load", load))
    .addNode("retrieve_context", observeNode("retrieve_context", contextNode))
    .addNode("analyse", observeNode("analyse", analyseNode))
    .addNode("derive_insights", observeNode("derive_insights", insightsNode))
    .addNode("validate", observeNode("validate", validateNode))
    .addNode("review_gate", review)
    .addNode("store", observeNode("store", storeNode))
    .addEdge(START, "load")
    .addEdge("load", "retrieve_context")
    .addEdge("retrieve_context", "analyse")
    .addEdge("analyse", "derive_insights")
    .addEdge("derive_insights", "validate")
    .addEdge("validate", "review_gate")
    .addEdge("review_gate", "store")
    .addEdge("store", END)
    .compile({ name: "document-processor" });
  return setStepBudget(graph, 30);
}
