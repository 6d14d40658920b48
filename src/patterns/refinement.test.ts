import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, defineAgent, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent, RoundEndEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { RefinementScoreError, createRefinementGraph } from "./refinement.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const rounds = () => seen.filter((event): event is RoundEndEvent => event.type === "round-end");
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision");
  return { events, rounds, decisions };
}

/** Steps as plain functions that number their versions, and an evaluator that reads scores off a script. */
function scripted(scores: number[]) {
  const evaluated: string[] = [];
  let versions = 0;
  const options = {
    draft: () => `v${++versions}`,
    critique: ({ draft }: { draft: string }) => `critique of ${draft}`,
    refine: () => `v${++versions}`,
    evaluate: (draft: string) => {
      evaluated.push(draft);
      const score = scores[evaluated.length - 1];
      if (score === undefined) throw new Error("evaluated more versions than scripted");
      return score;
    },
  };
  return { options, evaluated };
}

describe("iterative refinement", () => {
  it("stops after the round whose gain fell below minImprovement (0.4, 0.7, 0.72 → converged)", async () => {
    const { options, evaluated } = scripted([0.4, 0.7, 0.72, 0.72]);
    const { events, rounds, decisions } = recorder();
    const { state } = await run(createRefinementGraph({ ...options, maxIterations: 10, minImprovement: 0.05 }), { task: "Write a paragraph." }, { events });
    // The fourth scripted score is never asked for: round 3 gained 0.02 < 0.05.
    expect(evaluated).toEqual(["v1", "v2", "v3"]);
    expect(state.stopReason).toBe("converged");
    expect(state.drafts.map((draft) => [draft.round, draft.text, draft.score])).toEqual([
      [1, "v1", 0.4],
      [2, "v2", 0.7],
      [3, "v3", 0.72],
    ]);
    expect(state.drafts[1]).toMatchObject({ critique: "critique of v1" });
    expect(state.drafts[2]!.gain).toBeCloseTo(0.02);
    expect(state.final).toEqual({ text: "v3", score: 0.72, round: 3 });
    // Each round is reported with its score, and each decision says why.
    expect(rounds().map((event) => [event.loop, event.round, event.measures.score])).toEqual([
      ["refinement", 1, 0.4],
      ["refinement", 2, 0.7],
      ["refinement", 3, 0.72],
    ]);
    expect(decisions().map((event) => event.next)).toEqual(["critique", "critique", "finish", "finish"]);
    expect(decisions()[2]!.reason).toBe("converged: gain +0.020 < minImprovement 0.05");
  });

  it("is capped by maxIterations while the score still climbs", async () => {
    const { options, evaluated } = scripted([0.1, 0.3, 0.5, 0.7, 0.9]);
    const { state } = await run(createRefinementGraph({ ...options, maxIterations: 3, minImprovement: 0.05 }), { task: "t" });
    expect(evaluated).toEqual(["v1", "v2", "v3"]);
    expect(state.stopReason).toBe("max-iterations");
    expect(state.final).toEqual({ text: "v3", score: 0.5, round: 3 });
  });

  it("returns the best-scoring version, not the last, when a revision makes it worse", async () => {
    const { options } = scripted([0.4, 0.8, 0.6]);
    const { events, decisions } = recorder();
    const { state } = await run(createRefinementGraph({ ...options, maxIterations: 5, minImprovement: 0.05 }), { task: "t" }, { events });
    expect(state.stopReason).toBe("converged");
    expect(state.drafts.at(-1)).toMatchObject({ text: "v3", score: 0.6 });
    expect(state.final).toEqual({ text: "v2", score: 0.8, round: 2 });
    expect(decisions().at(-1)!.reason).toBe("stopped (converged); best version is round 2 of 3, score 0.800");
  });

  it("stops once the target score is reached", async () => {
    const { options, evaluated } = scripted([0.5, 0.95, 0.99]);
    const { state } = await run(createRefinementGraph({ ...options, targetScore: 0.9 }), { task: "t" });
    expect(evaluated).toHaveLength(2);
    expect(state.stopReason).toBe("target-reached");
  });

  it("runs agents with prompts that carry the draft and the critique", async () => {
    const writerModel = scriptedModel().reply("Checkpoints save state.").reply("Checkpoints save each step's state, so a crashed run resumes.");
    const criticModel = scriptedModel().reply("Say when state is saved and why it matters.");
    const writer = defineAgent({ name: "writer", instructions: "Write clearly.", tools: [], maxSteps: 1, model: writerModel });
    const critic = defineAgent({ name: "critic", instructions: "Criticise.", tools: [], maxSteps: 1, model: criticModel });
    const evaluate = (text: string) => Math.min(1, text.split(/\s+/).length / 20);
    const { state, usage } = await run(createRefinementGraph({ draft: writer, critique: critic, refine: writer, evaluate, maxIterations: 2 }), { task: "Explain checkpoints." });
    expect(writerModel.requests[0]!.at(-1)!.content).toBe("Explain checkpoints.");
    const critiqueRequest = criticModel.requests[0]!.at(-1)!.content;
    expect(critiqueRequest).toContain("Explain checkpoints.");
    expect(critiqueRequest).toContain("[draft] Checkpoints save state.");
    const revision = writerModel.requests[1]!.at(-1)!.content;
    expect(revision).toContain("[draft] Checkpoints save state.");
    expect(revision).toContain("Critique:\nSay when state is saved and why it matters.");
    expect(state.final).toEqual({ text: "Checkpoints save each step's state, so a crashed run resumes.", score: 0.5, round: 2 });
    expect(state.stopReason).toBe("max-iterations");
    expect(usage.modelCalls).toBe(3);
  });

  it("keeps the best version when the budget runs out mid-loop", async () => {
    const writer = defineAgent({ name: "writer", instructions: "Write.", tools: [], maxSteps: 1, model: scriptedModel().reply("first").reply("second") });
    const critic = defineAgent({ name: "critic", instructions: "Criticise.", tools: [], maxSteps: 1, model: scriptedModel().reply("more") });
    const { state } = await run(createRefinementGraph({ draft: writer, critique: critic, refine: writer, evaluate: () => 0.5 }), { task: "t" }, { budget: { maxModelCalls: 2 } });
    expect(state.stopReason).toBe("budget");
    expect(state.final).toEqual({ text: "first", score: 0.5, round: 1 });
  });

  it("rejects bad options and bad scores with errors that say what to do", async () => {
    const { options } = scripted([0.5]);
    expect(() => createRefinementGraph({ ...options, maxIterations: 0 })).toThrow(DefinitionError);
    expect(() => createRefinementGraph({ ...options, critique: "nope" as never })).toThrow(/critique: must be an agent/);
    const graph = createRefinementGraph({ ...options, evaluate: () => Number.NaN });
    await expect(run(graph, { task: "t" })).rejects.toThrow(RefinementScoreError);
  });
});
