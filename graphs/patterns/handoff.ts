import { compileGraph, createHandoffGraph, defineAgent, defineGraph, extractCitations, HandoffReviewSchema } from "conclave";
import type { GraphBuildContext } from "conclave";
import { z } from "zod";
import { standardTools } from "../../tools/index.ts";

/** What the planner hands the executor: the questions a complete answer covers. */
export const PlanSchema = z.object({ questions: z.array(z.string()).describe("The questions a complete answer must cover, one per item.") });

/** What the executor (and the refiner) hand the reviewer: the answer and the sources it cites. */
export const WorkSchema = z.object({
  answer: z.string().describe("The answer, with a [source id] after each sentence that uses a source."),
  sources: z.array(z.string()).describe("The source ids the answer cites."),
});

/** plan → execute (with retrieval) → review → refine, the executor doubling as refiner. */
export function createHandoffChain(context: GraphBuildContext) {
  const { retrieve } = standardTools(context);
  const planner = defineAgent({ name: "planner", instructions: "You plan answers: list the questions a complete answer to the task must cover. Do not answer them.", tools: [], outputSchema: PlanSchema, maxSteps: 1 });
  const executor = defineAgent({
    name: "executor",
    instructions: "You answer the task by the plan you are handed, looking facts up with retrieve and citing each [source id]. When a review is handed to you, revise the answer to address its feedback.",
    tools: [retrieve],
    outputSchema: WorkSchema,
    maxSteps: 4,
  });
  const reviewer = defineAgent({ name: "reviewer", instructions: "You review an answer against the task and its plan: approve it only when it answers every question with cited sources; otherwise say exactly what to fix.", tools: [], outputSchema: HandoffReviewSchema, maxSteps: 1 });
  return createHandoffGraph({ stages: { plan: planner, execute: executor, review: reviewer }, maxRefinements: context.options?.maxRounds ?? 2 });
}

/** `conclave run --graph handoff "…"` (`--max-rounds N` caps the refinements). */
export const example = defineGraph({
  name: "handoff",
  description: "Sequential handoff: planner → executor → reviewer, who may send the work back to be refined (bounded); each hand-over a typed payload",
  sample: "When did Apollo 11 land on the Moon, and who walked on its surface?",
  build: (context) => createHandoffChain(context),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.work?.answer ?? "",
    citations: extractCitations(state.work?.answer ?? ""),
    details: {
      plan: state.plan?.questions ?? [],
      handoffs: state.handoffs.map((handoff) => `${handoff.from} → ${handoff.to}`),
      review: state.review ?? null,
      refinements: state.refinements,
      terminationReason: state.terminationReason ?? null,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
