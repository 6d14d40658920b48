import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { DefinitionError } from "../errors.ts";
import { OfflineChatModel, OfflineEmbeddings, RunEvents, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { createPassageIndex } from "../retrieval/passage-index.ts";
import type { PassageIndex } from "../retrieval/passage-index.ts";
import { ingestFolder } from "../retrieval/ingest.ts";
import { scriptedModel } from "../testing/index.ts";
import { countTokens } from "./context-window.ts";
import { createRagGraph } from "./rag.ts";

const passage = (id: string, text: string) => ({ id, documentId: id.split("#")[0]!, title: id.split("#")[0]!, text });

async function kilnIndex(): Promise<PassageIndex> {
  return createPassageIndex(
    [
      passage("kiln#1", "The kiln fires stoneware at 1,280 degrees and takes nine hours to cool."),
      passage("kiln#2", "Only members who finished the kiln course may load the kiln; the course runs every second Monday."),
      passage("glaze#1", "Glazes are mixed in the back room; the kiln shelf must be wiped before each firing."),
      passage("loom#1", "The loom room has four floor looms for weaving wool blankets and scarves."),
      passage("bike#1", "The bike repair stand is by the door and is free to use during opening hours."),
    ],
    new OfflineEmbeddings(),
  );
}

/** The source lines of the request the model received (each starts with "[id] "). */
const sourceLines = (request: string) => request.split("\n").filter((line) => /^\[[^\]]+\] /.test(line));

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

describe("RAG graph", () => {
  it("puts the best passages that fit the token budget in the prompt, each tagged [doc#chunk], ranked", async () => {
    const model = scriptedModel().reply("Stoneware is fired at 1,280 degrees. [kiln#1]");
    const tokenBudget = 60;
    const { events, seen } = recorder();
    const { state } = await run(createRagGraph({ index: await kilnIndex(), k: 4, tokenBudget }), { question: "At what temperature does the kiln fire stoneware?" }, { model, events });
    expect(state.retrieved).toHaveLength(4);
    expect(state.retrieved[0]!.id).toBe("kiln#1");
    for (let rank = 1; rank < state.retrieved.length; rank++) expect(state.retrieved[rank]!.score).toBeLessThanOrEqual(state.retrieved[rank - 1]!.score);

    // What the model was sent: the question, then the sources that fit, in retrieval order.
    const request = model.requests[0]!.at(-1)!.content;
    const lines = sourceLines(request);
    expect(lines.map((line) => /^\[([^\]]+)\]/.exec(line)![1])).toEqual(state.context);
    expect(state.context.length).toBeGreaterThan(0);
    expect(state.context.length).toBeLessThan(4);
    expect(state.context).toEqual(state.retrieved.slice(0, state.context.length).map((hit) => hit.id));
    expect(countTokens(lines.join("\n"))).toBe(state.contextTokens);
    expect(state.contextTokens).toBeLessThanOrEqual(tokenBudget);
    expect(request.startsWith("Question: At what temperature does the kiln fire stoneware?\n\nSources:\n")).toBe(true);
    expect(model.requests[0]![0]!.role).toBe("system");

    expect(state.answer).toBe("Stoneware is fired at 1,280 degrees. [kiln#1]");
    expect(state.citations).toEqual([{ source: "kiln#1", text: "Stoneware is fired at 1,280 degrees." }]);
    expect(seen.find((event) => event.type === "decision")).toMatchObject({ by: "rag", next: "generate", reason: expect.stringMatching(new RegExp(`^${state.context.length} of 4 passages in the prompt \\(${state.contextTokens} tokens ≤ 60\\); dropped `)) });
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ agent: "rag" });
  });

  it("cites only passages that were in the prompt: other ids are removed from the answer and reported", async () => {
    const model = scriptedModel().reply("The kiln fires at 1,280 degrees [kiln#1]. The course is on Mondays [kiln#2]. Looms weave wool [loom#1]. Bikes are free [bike#9].");
    const { events, seen } = recorder();
    const { state } = await run(createRagGraph({ index: await kilnIndex(), k: 3, tokenBudget: 1_000 }), { question: "Who may load the kiln, and how hot does it fire?" }, { model, events });
    expect(state.context).toEqual(state.retrieved.map((hit) => hit.id));
    expect(state.context).not.toContain("loom#1");
    const shown = new Set(state.context);
    expect(state.citations.map((citation) => citation.source)).toEqual(["kiln#1", "kiln#2"]);
    for (const citation of state.citations) expect(shown.has(citation.source)).toBe(true);
    expect(state.removedCitations).toEqual(["loom#1", "bike#9"]);
    expect(state.answer).toBe("The kiln fires at 1,280 degrees [kiln#1]. The course is on Mondays [kiln#2]. Looms weave wool. Bikes are free.");
    expect(seen.filter((event) => event.type === "decision").at(-1)).toMatchObject({ next: "finish", reason: "removed citations of [loom#1], [bike#9]: not among the passages in the prompt" });
  });

  it("answers offline from an ingested folder, citing what it was shown", async () => {
    const folder = mkdtempSync(join(tmpdir(), "conclave-rag-"));
    writeFileSync(join(folder, "ferry.md"), "# Ferry\n\nThe island ferry leaves the harbour at 7:15 every morning.\n\n## Tickets\n\nA return ticket costs 12 euros; bicycles travel free.\n");
    writeFileSync(join(folder, "museum.md"), "# Museum\n\nThe island museum shows fishing boats and is closed on Mondays.\n");
    const index = await ingestFolder(folder, { chunkSize: 120, chunkOverlap: 20, embeddings: new OfflineEmbeddings() });
    const { state } = await run(createRagGraph({ index, k: 3, tokenBudget: 80 }), { question: "When does the island ferry leave the harbour?" }, { model: new OfflineChatModel({}) });
    expect(state.answer).toContain("7:15");
    expect(state.citations.length).toBeGreaterThan(0);
    for (const citation of state.citations) expect(state.context).toContain(citation.source);
    expect(state.contextTokens).toBeLessThanOrEqual(80);
  });

  it("builds a lazy index once across runs, and retries one that failed", async () => {
    const built = await kilnIndex();
    const factory = vi.fn<() => Promise<PassageIndex>>().mockRejectedValueOnce(new Error("embedding endpoint down")).mockResolvedValue(built);
    const graph = createRagGraph({ index: factory, k: 2, tokenBudget: 200 });
    await expect(run(graph, { question: "kiln?" }, { model: scriptedModel().reply("x") })).rejects.toThrow(/embedding endpoint down/);
    await run(graph, { question: "kiln?" }, { model: scriptedModel().reply("x") });
    await run(graph, { question: "loom?" }, { model: scriptedModel().reply("y") });
    expect(factory).toHaveBeenCalledTimes(2);
  });

  it("refuses options it cannot use, saying what to pass", async () => {
    const index = await kilnIndex();
    expect(() => createRagGraph({} as never)).toThrow(DefinitionError);
    expect(() => createRagGraph({ index, k: 0 })).toThrow(/Invalid RAG options: .*k/s);
    expect(() => createRagGraph({ index, tokenBudget: 5 })).toThrow(/tokenBudget/);
  });
});
