import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkDocuments, readCorpus } from "../tools/retrieve/corpus.ts";
import { citedClaims } from "../src/index.ts";
import { ROOT, runCli } from "./helpers/cli.ts";

const CORPUS = join(ROOT, "tools", "corpus");

const conclave = (argv: string[]) => runCli(argv);

const squash = (text: string) => text.replace(/\s+/g, " ");

describe("the research team, offline, end to end", () => {
  it("answers from the bundled corpus with citations that exist and contain the cited text", async () => {
    const { code, stdout, stderr } = await conclave(["run", "--json", "Who discovered penicillin?"]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; citations: Array<{ source: string; text: string }>; graph: string; rounds: number; verdict: string; terminationReason: string; critiques: unknown[] };
    expect(output.graph).toBe("research-team");
    expect(output.answer).toMatch(/Fleming/);
    expect(output.citations.length).toBeGreaterThan(0);
    // Every cited sentence, not only the first per source, is in the passage it cites.
    const passages = new Map(chunkDocuments(readCorpus(CORPUS)).map((passage) => [passage.id, passage.text]));
    for (const claim of citedClaims(output.answer).filter((item) => item.sources.length > 0)) {
      for (const source of claim.sources) {
        expect(existsSync(join(CORPUS, `${source.split("#")[0]}.md`)), source).toBe(true);
        expect(passages.has(source), source).toBe(true);
        expect(squash(passages.get(source)!)).toContain(squash(claim.claim).replace(/\.$/, ""));
      }
    }
    expect(output.rounds).toBeGreaterThanOrEqual(1);
    expect(output.verdict).toBe("approve");
    expect(output.terminationReason).toBe("approved");
    expect(output.critiques).toHaveLength(output.rounds);
    // Progress shows each agent at work and the critique round.
    for (const agent of ["[coordinator r1]", "[research r1 q1] → retrieve", "[writing r1]", "[verification r1c1] → check_support"]) expect(stderr).toContain(agent);
    expect(stderr).toMatch(/── critique round 1: \d+\/\d+ claims supported · verdict approve/);
  });

  it("answers from the user's own folder with --corpus", async () => {
    const folder = mkdtempSync(join(tmpdir(), "conclave-corpus-"));
    writeFileSync(join(folder, "garden.md"), "# Garden log\n\nThe tomatoes were planted on 3 May 2025. The basil grows beside them.\n");
    writeFileSync(join(folder, "kitchen.txt"), "The oven was repaired in March 2024 by a technician named Ruth Okafor.\n");
    const { code, stdout } = await conclave(["run", "--json", "--corpus", folder, "Who repaired the oven?"]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; citations: Array<{ source: string }> };
    expect(output.answer).toContain("Ruth Okafor");
    expect(output.citations.map((citation) => citation.source)).toEqual(["kitchen#1"]);
  });

  it("runs the panel debate and reports each round's agreement", async () => {
    const { code, stdout, stderr } = await conclave(["run", "--graph", "debate", "--agents", "3", "--max-rounds", "2", "--json", "What is 12*(7+5)-3?"]);
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { answer: string; rounds: number; agreement: number[]; terminationReason: string; modelCalls: number };
    expect(output.answer).toContain("141");
    expect(output.agreement).toHaveLength(output.rounds);
    expect(output.agreement.at(-1)).toBe(1);
    expect(output.modelCalls).toBe(6);
    expect(stderr).toMatch(/── debate round 1: agreement 3\/3 on "141"/);
  });
});
