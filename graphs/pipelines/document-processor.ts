import { compileGraph, defineGraph } from "conclave";
import { createDocumentProcessor } from "./document-processor/graph.ts";

export { createDocumentProcessor } from "./document-processor/graph.ts";
export type { DocumentProcessorOptions } from "./document-processor/graph.ts";

/** The enterprise document processor: every stage a pattern from the library, composed. */
export const example = defineGraph({
  name: "document-processor",
  description: "Enterprise documents: RAG context → parallel metadata/summary/classification/entities → chain-of-thought insights → validation chain → human gate below 0.85 confidence → store → events",
  sample: "graphs/pipelines/samples/documents/invoice-2026-114.md",
  build: (context) => createDocumentProcessor(context),
  input: (source) => ({ source }),
  output: (state) => ({
    answer: [
      `${state.document?.id}: ${state.stored?.status ?? "not stored"} as ${state.analysis?.classification.label} (confidence ${state.analysis?.classification.confidence})`,
      `summary: ${state.analysis?.summary ?? ""}`,
      `insight: ${state.insights?.answer ?? ""}`,
      `validation: ${state.validation?.status}${state.validation?.reasons.length ? ` (${state.validation.reasons.join("; ")})` : ""}; review: ${state.review?.decision ?? "-"}`,
    ].join("\n"),
    citations: [],
    details: { stored: state.stored, classification: state.analysis?.classification, metadata: state.analysis?.metadata, entities: state.analysis?.entities, emitted: state.emitted, context: state.context.map((passage) => passage.id) },
  }),
});

export const graph = compileGraph(example);
