import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { critiqueText, example, rubricOf, scoreText } from "./refinement.ts";

const context = { config: ConfigSchema.parse({}), cwd: process.cwd() };

describe("the refinement example on its sample, offline", () => {
  it("drafts, critiques, revises and stops when a revision no longer gains, keeping the best version", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const { state } = await run(example.build(context), example.input(example.sample!), { model: new OfflineChatModel({}), events });
    expect(state.stopReason).toBe("converged");
    expect(state.drafts.length).toBeGreaterThanOrEqual(2);
    expect(state.drafts[1]!.critique).toMatch(/^It does not yet address: .*ledger/);
    // The answer is the best-scoring version, cited from the notes, and it answers the request.
    const best = Math.max(...state.drafts.map((draft) => draft.score));
    expect(state.final!.score).toBe(best);
    expect(best).toBeGreaterThan(0.85);
    expect(state.final!.text).toMatch(/checkpoint/);
    expect(state.final!.text).toMatch(/resume/);
    expect(state.final!.text).toMatch(/\[notes#\d\]/);
    expect(seen.filter((event) => event.type === "round-end")).toHaveLength(state.drafts.length);

    const answer = example.output(state);
    expect(answer.answer).toBe(state.final!.text);
    expect(answer.citations.map((citation) => citation.source)).toContain("notes#3");
    expect(answer.details).toMatchObject({ stopReason: "converged", bestRound: state.final!.round });
  });

  it("improves a draft when the writer follows the rubric critic", async () => {
    const writer = scriptedModel()
      .reply("A checkpoint saves the state after every step.")
      .reply("A checkpoint saves the state after every step, so a crash can resume from the thread. [notes#5]")
      .reply("A checkpoint saves the state after every step. After a crash the run can resume from its thread, and a ledger repeats no side effect.");
    const { state } = await run(example.build(context), example.input(example.sample!), { model: writer });
    expect(state.drafts.map((draft) => draft.score)).toEqual([...state.drafts.map((draft) => draft.score)].sort());
    expect(state.drafts[1]!.critique).toBe("It does not yet address: crash, resume, thread, ledger.");
    // Every revision was asked with the critique of the version before it.
    expect(writer.requests[1]!.at(-1)!.content).toContain("Critique:\nIt does not yet address: crash, resume, thread, ledger.");
    expect(state.final).toMatchObject({ round: 3, score: 1 });
  });

  it("reads its rubric from the task", () => {
    const rubric = rubricOf(example.sample!);
    expect(rubric).toEqual({ terms: ["checkpoint", "step", "state", "crash", "resume", "thread", "ledger"], maxWords: 60, maxSentenceWords: 20 });
    expect(scoreText("A checkpoint saves state after each step.", rubric)).toMatchObject({ missing: ["crash", "resume", "thread", "ledger"], words: 7 });
    expect(critiqueText(`${"word ".repeat(70)}checkpoint`, { terms: ["checkpoint"], maxWords: 60, maxSentenceWords: 20 })).toBe("It has 71 words; cut it to at most 60. Its longest sentence has 71 words; keep sentences under 20.");
    expect(rubricOf("Explain caching in simple words.").terms).toEqual(["cach", "simple", "word"]);
  });
});
