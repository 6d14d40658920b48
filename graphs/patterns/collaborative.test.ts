import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, OfflineChatModel, run } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./collaborative.ts";

describe("the collaborative example on its sample, offline", () => {
  it("proposes a draft, critiques every claim and ends with a verified, cited answer", async () => {
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-collaborative-")) });
    const { state } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}) });
    expect(state.drafts.length).toBeGreaterThanOrEqual(1);
    expect(state.critiques).toHaveLength(state.drafts.length);
    expect(state.critiques.every((critique) => critique.items.length > 0)).toBe(true);
    const answer = example.output(state);
    expect(answer.answer).toMatch(/1969/);
    expect(answer.citations.map((citation) => citation.source)).toContainEqual(expect.stringMatching(/^apollo-11#\d$/));
    expect(answer.details).toMatchObject({ verdict: "approve", verified: true, terminationReason: "approved" });
  });
});
