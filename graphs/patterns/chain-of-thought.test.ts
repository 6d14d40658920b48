import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./chain-of-thought.ts";

describe("the chain-of-thought example on its sample, offline", () => {
  it("plans the word problem, works each step out with the calculator on the earlier results, and answers 270", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    expect(state.plan).toHaveLength(3);
    expect(state.plan[0]).toMatch(/4 boxes of 25 notebooks/);
    // Each step used the calculator, and the results chain: 4 × 25 → 100 × 3 → 300 less 10%.
    const calculations = seen.flatMap((event) => (event.type === "tool-call-end" && event.tool === "calculator" ? [event.output] : []));
    expect(calculations).toEqual(["4 * 25 = 100", "100 * 3 = 300", "300 - 10/100*300 = 270"]);
    expect(state.steps.map((step) => step.output)).toEqual([expect.stringContaining("= 100"), expect.stringContaining("= 300"), expect.stringContaining("= 270")]);
    expect(state.steps.every((step) => step.modelCalls === 2)).toBe(true);
    expect(state.answer).toMatch(/= 270\b/);
    expect(usage.byAgent).toMatchObject({ planner: { modelCalls: 1 }, step: { modelCalls: 6 }, synthesis: { modelCalls: 1 } });

    const answer = example.output(state);
    expect(answer.answer).toBe(state.answer);
    expect(answer.details).toMatchObject({ plan: state.plan, stopped: null });
  });
});
