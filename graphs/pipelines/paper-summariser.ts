import { compileGraph, defineGraph } from "conclave";
import { createPaperSummariser } from "./paper-summariser/graph.ts";
import type { PaperStateType } from "./paper-summariser/state.ts";

export { createPaperSummariser, PaperSummariserOptionsSchema } from "./paper-summariser/graph.ts";
export type { PaperSummariserOptions } from "./paper-summariser/graph.ts";
export { PaperInputError } from "./paper-summariser/sections.ts";
export { EntitySchema, PaperState, RelationSchema } from "./paper-summariser/state.ts";
export type { Entity, Relation, Section, SectionSummary } from "./paper-summariser/state.ts";

/** The summary the CLI prints: both overviews, then what the knowledge graph holds. */
function report(state: PaperStateType): string {
  const types = new Map<string, number>();
  for (const entity of state.entities) types.set(entity.type, (types.get(entity.type) ?? 0) + 1);
  const byType = [...types].sort((a, b) => b[1] - a[1]).map(([type, count]) => `${count} ${type}`).join(", ");
  return [
    `# ${state.title}`,
    `## Executive summary\n${state.executiveSummary || "(none)"}`,
    `## Technical summary\n${state.technicalSummary || "(none)"}`,
    `## Knowledge graph\n${state.entities.length} entities${byType ? ` (${byType})` : ""} and ${state.relations.length} relations from ${state.sections.length} sections.`,
  ].join("\n\n");
}

/** A research paper (markdown) → section summaries, executive and technical summaries, and grounded entities and relations. */
export const example = defineGraph({
  name: "paper-summariser",
  description: "Research-paper summariser: sections summarised and mined in parallel, executive and technical summaries, entities and relations grounded in their sections",
  sample: "graphs/pipelines/samples/paper-sample.md",
  build: (context) => createPaperSummariser(context),
  input: (task) => ({ source: task }),
  output: (state) => ({
    answer: report(state),
    citations: [],
    details: {
      title: state.title,
      sections: state.sections.map((section) => ({ id: section.id, title: section.title })),
      skipped: state.skipped,
      summaries: state.summaries,
      executiveSummary: state.executiveSummary,
      technicalSummary: state.technicalSummary,
      entities: state.entities,
      relations: state.relations,
      incidents: state.incidents,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
