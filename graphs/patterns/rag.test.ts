import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, OfflineChatModel, countTokens, run } from "conclave";
import { describe, expect, it } from "vitest";
import { example } from "./rag.ts";

describe("the rag example on its sample, offline", () => {
  it("answers from the handbook, citing only passages that were in its budgeted prompt", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "conclave-rag-example-"));
    const { state } = await run(example.build({ config: ConfigSchema.parse({}), cwd }), example.input(example.sample!), { model: new OfflineChatModel({}) });
    expect(state.answer).toContain("three days");
    expect(state.retrieved[0]!.id).toBe("borrowing#2");
    expect(state.citations.map((citation) => citation.source)).toContain("borrowing#2");
    for (const citation of state.citations) expect(state.context).toContain(citation.source);
    expect(state.removedCitations).toEqual([]);
    expect(state.contextTokens).toBeLessThanOrEqual(200);
    expect(countTokens(state.prompt.split("Sources:\n")[1]!)).toBe(state.contextTokens);
    // The index was built once and cached in the workspace.
    expect(readdirSync(join(cwd, ".conclave", "index"))).toHaveLength(1);

    const answer = example.output(state);
    expect(answer.answer).toBe(state.answer);
    expect(answer.details).toMatchObject({ context: state.context, contextTokens: state.contextTokens });
  });

  it("indexes every handbook page but not the README", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "conclave-rag-example-"));
    const { state } = await run(example.build({ config: ConfigSchema.parse({}), cwd }), example.input("What is the README about?"), { model: new OfflineChatModel({}) });
    expect(new Set(state.retrieved.map((passage) => passage.documentId))).not.toContain("README");
    expect(existsSync(join(cwd, ".conclave", "index"))).toBe(true);
  });
});
