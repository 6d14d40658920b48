import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./hierarchical.ts";

describe("the hierarchical example on its sample, offline", () => {
  it("delegates to research, then writing, with a decision per delegation, and finishes with a cited answer", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-hierarchical-")) });
    const { state } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), events });

    expect(state.delegations.map((delegation) => delegation.worker)).toEqual(["research", "writing"]);
    expect(state.delegations.every((delegation) => !delegation.error && delegation.result.length > 0)).toBe(true);
    expect(state.delegations[0]!.result).toMatch(/Fleming.*\[penicillin#\d\]/);
    expect(state.terminationReason).toBe("finished");
    const answer = example.output(state);
    expect(answer.answer).toContain("Alexander Fleming");
    expect(answer.answer).toContain("1928");
    expect(answer.citations.map((citation) => citation.source)).toEqual([expect.stringMatching(/^penicillin#\d$/)]);
    const decisions = seen.flatMap((event) => (event.type === "decision" ? [[event.by, event.next]] : []));
    expect(decisions).toEqual([["coordinator", "research"], ["coordinator", "writing"], ["coordinator", "finish"]]);
  });
});
