import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError } from "../errors.ts";
import { RunEvents } from "../events/emitter.ts";
import type { ConclaveEvent } from "../events/types.ts";
import { run } from "../runtime/run.ts";
import { scriptedModel } from "../testing/index.ts";
import type { ScriptedChatModel } from "../testing/index.ts";
import { HandoffReviewSchema, createHandoffGraph } from "./handoff.ts";

const PlanSchema = z.object({ steps: z.array(z.string()) });
const WorkSchema = z.object({ answer: z.string(), sources: z.array(z.string()) });
const ReviewSchema = HandoffReviewSchema.extend({ score: z.number() });

function stages(models: { plan: ScriptedChatModel; execute: ScriptedChatModel; review: ScriptedChatModel; refine?: ScriptedChatModel }) {
  return {
    plan: defineAgent({ name: "planner", instructions: "Plan the steps.", tools: [], model: models.plan, outputSchema: PlanSchema, maxSteps: 1 }),
    execute: defineAgent({ name: "executor", instructions: "Do the steps.", tools: [], model: models.execute, outputSchema: WorkSchema, maxSteps: 1 }),
    review: defineAgent({ name: "reviewer", instructions: "Review the work.", tools: [], model: models.review, outputSchema: ReviewSchema, maxSteps: 1 }),
    ...(models.refine ? { refine: defineAgent({ name: "refiner", instructions: "Fix the work.", tools: [], model: models.refine, outputSchema: WorkSchema, maxSteps: 1 }) } : {}),
  };
}

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, decisions: () => seen.flatMap((event) => (event.type === "decision" ? [[event.by, event.next, event.reason]] : [])) };
}

describe("createHandoffGraph", () => {
  it("hands typed payloads along; review rejects once, refine revises, review approves", async () => {
    const plan = scriptedModel().answer({ steps: ["Find the landing date.", "Name the crew."] });
    const execute = scriptedModel().answer({ answer: "Apollo 11 landed in 1969.", sources: ["apollo-11#2"] });
    const review = scriptedModel().answer({ approved: false, feedback: "Name the crew.", score: 0.5 }).answer({ approved: true, feedback: "", score: 0.9 });
    const refine = scriptedModel().answer({ answer: "Apollo 11 landed in 1969 with Armstrong, Aldrin and Collins.", sources: ["apollo-11#2", "apollo-11#3"] });
    const graph = createHandoffGraph({ stages: stages({ plan, execute, review, refine }), maxRefinements: 2 });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { task: "Summarise Apollo 11." }, { events, model: scriptedModel() });

    // Each stage got the payloads before it, quoted per stage and field.
    expect(plan.requests[0]!.at(-1)!.content).toBe("Task: Summarise Apollo 11.");
    expect(execute.requests[0]!.at(-1)!.content).toBe("Task: Summarise Apollo 11.\n\nHanded over so far:\n[plan] steps: Find the landing date.\n[plan] steps: Name the crew.");
    expect(refine.requests[0]!.at(-1)!.content).toBe(
      "Task: Summarise Apollo 11.\n\nHanded over so far:\n[plan] steps: Find the landing date.\n[plan] steps: Name the crew.\n[execute] answer: Apollo 11 landed in 1969.\n[execute] sources: apollo-11#2\n[review] approved: false\n[review] feedback: Name the crew.\n[review] score: 0.5",
    );
    expect(review.requests[1]!.at(-1)!.content).toContain("[refine] answer: Apollo 11 landed in 1969 with Armstrong, Aldrin and Collins.");

    // The payloads are kept in order, typed by the stages' schemas.
    expect(state.handoffs.map(({ from, to, round }) => `${from}→${to}@${round}`)).toEqual(["plan→execute@0", "execute→review@0", "review→refine@0", "refine→review@1", "review→finish@1"]);
    expect(state.handoffs[2]!.payload).toEqual({ approved: false, feedback: "Name the crew.", score: 0.5 });
    expect(state.work).toEqual({ answer: "Apollo 11 landed in 1969 with Armstrong, Aldrin and Collins.", sources: ["apollo-11#2", "apollo-11#3"] });
    expect(state).toMatchObject({ plan: { steps: ["Find the landing date.", "Name the crew."] }, review: { approved: true, score: 0.9 }, refinements: 1, terminationReason: "approved" });
    expectTypeOf(state.plan).toEqualTypeOf<{ steps: string[] } | undefined>();
    expectTypeOf(state.work).toEqualTypeOf<{ answer: string; sources: string[] } | undefined>();
    expectTypeOf(state.review).toEqualTypeOf<{ approved: boolean; feedback: string; score: number } | undefined>();
    const first = state.handoffs[0]!;
    if (first.from === "plan") expectTypeOf(first.payload).toEqualTypeOf<{ steps: string[] }>();

    // Every hand-over is a decision; review's carries its feedback.
    expect(decisions()).toEqual([
      ["planner", "executor", "plan ready; handing it to execute"],
      ["executor", "reviewer", "work done; handing it to review"],
      ["reviewer", "refiner", "sent back to refine: Name the crew."],
      ["refiner", "reviewer", "refinement 1 of at most 2 done; handing it to review"],
      ["reviewer", "finish", "approved"],
    ]);
  });

  it("stops after maxRefinements with the latest work, and refines with execute when no refine stage is given", async () => {
    const execute = scriptedModel().answer({ answer: "v1", sources: [] }).answer({ answer: "v2", sources: [] });
    const review = scriptedModel().answer({ approved: false, feedback: "Better.", score: 0 }).answer({ approved: false, feedback: "Still better.", score: 0 });
    const graph = createHandoffGraph({ stages: stages({ plan: scriptedModel().answer({ steps: ["Do it."] }), execute, review }), maxRefinements: 1 });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { task: "Do it." }, { events, model: scriptedModel() });
    expect(execute.requests).toHaveLength(2);
    expect(execute.requests[1]!.at(-1)!.content).toContain("[review] feedback: Better.");
    expect(state).toMatchObject({ work: { answer: "v2" }, refinements: 1, terminationReason: "max-refinements" });
    expect(decisions().at(-1)).toEqual(["reviewer", "finish", "not approved (Still better.), but the refinement limit (1) is reached; finishing with the latest work"]);
  });

  it("ends with the latest work when the budget runs out", async () => {
    const graph = createHandoffGraph({ stages: stages({ plan: scriptedModel().answer({ steps: ["x"] }), execute: scriptedModel().answer({ answer: "v1", sources: [] }), review: scriptedModel() }) });
    const { state } = await run(graph, { task: "T" }, { model: scriptedModel(), budget: { maxModelCalls: 2 } });
    expect(state).toMatchObject({ work: { answer: "v1" }, terminationReason: "budget" });
    expect(state.review).toBeUndefined();
  });

  it("rejects stages without an output schema, saying why", () => {
    const plain = defineAgent({ name: "plain", instructions: "Talk.", tools: [], maxSteps: 1 });
    const typed = stages({ plan: scriptedModel(), execute: scriptedModel(), review: scriptedModel() });
    // defineAgent's type leaves outputSchema optional, so this is caught when the graph is built.
    expect(() => createHandoffGraph({ stages: { ...typed, execute: plain } })).toThrow(DefinitionError);
    expect(() => createHandoffGraph({ stages: { ...typed, execute: plain } })).toThrow(/execute stage must be an agent .* with an outputSchema/);
    expect(() => createHandoffGraph({ stages: typed, maxRefinements: -1 })).toThrow(/maxRefinements/);
  });
});
