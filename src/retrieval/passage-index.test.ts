import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { OfflineEmbeddings } from "../models/offline/embeddings.ts";
import { CorpusError, corpusIndex, createPassageIndex } from "./passage-index.ts";
import type { Chunker } from "./passage-index.ts";

function corpus(): string {
  const folder = mkdtempSync(join(tmpdir(), "conclave-cache-corpus-"));
  writeFileSync(join(folder, "a.md"), "# Alpha\n\nThe alpha station opened in 1990.\n");
  writeFileSync(join(folder, "b.txt"), "The beta bridge is 300 metres long.\n");
  return folder;
}

function counting(dimensions = 128) {
  const embeddings = new OfflineEmbeddings({ dimensions });
  const spy = vi.spyOn(embeddings, "embedDocuments");
  return { embeddings, spy };
}

describe("the on-disk corpus index cache", () => {
  it("is reused by a later run, and rebuilt when a file's content changes", async () => {
    const folder = corpus();
    const cacheDir = mkdtempSync(join(tmpdir(), "conclave-cache-"));
    const first = counting();
    const built = await corpusIndex({ folder, embeddings: first.embeddings, cacheDir })();
    expect(built.fromCache).toBe(false);
    expect(first.spy).toHaveBeenCalledTimes(1);

    const second = counting();
    const reused = await corpusIndex({ folder, embeddings: second.embeddings, cacheDir })();
    expect(reused.fromCache).toBe(true);
    expect(second.spy).not.toHaveBeenCalled();
    expect((await reused.search("How long is the beta bridge?", 1))[0]?.documentId).toBe("b");

    writeFileSync(join(folder, "b.txt"), "The beta bridge is 450 metres long.\n");
    const third = counting();
    const rebuilt = await corpusIndex({ folder, embeddings: third.embeddings, cacheDir })();
    expect(rebuilt.fromCache).toBe(false);
    expect(rebuilt.lookup("b#1")[0]?.text).toContain("450 metres");
  });

  it("is not shared between embeddings of different dimensions", async () => {
    const folder = corpus();
    const cacheDir = mkdtempSync(join(tmpdir(), "conclave-cache-"));
    await corpusIndex({ folder, embeddings: counting(128).embeddings, cacheDir })();
    const other = await corpusIndex({ folder, embeddings: counting(64).embeddings, cacheDir })();
    expect(other.fromCache).toBe(false);
    expect((await other.search("alpha station", 1))[0]?.documentId).toBe("a");
  });

  it("rebuilds a damaged entry instead of failing every run", async () => {
    const folder = corpus();
    const cacheDir = mkdtempSync(join(tmpdir(), "conclave-cache-"));
    await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir })();
    const [entry] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, entry!, "meta.json"), '{"version": 1, "dimen');
    const again = await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir })();
    expect(again.fromCache).toBe(false);
    expect((await again.search("alpha station", 1))[0]?.documentId).toBe("a");
    // The rebuilt entry is valid again.
    expect((await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir })()).fromCache).toBe(true);
  });

  it("keys the cache by the chunker, so other chunk settings never read an old index", async () => {
    const folder = corpus();
    const cacheDir = mkdtempSync(join(tmpdir(), "conclave-cache-"));
    const whole = (id: string): Chunker => ({ id, split: (documents) => documents.map((document) => ({ id: `${document.id}#1`, documentId: document.id, title: document.title, text: document.text })) });
    expect((await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir, chunker: whole("whole:1") })()).fromCache).toBe(false);
    expect((await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir, chunker: whole("whole:1") })()).fromCache).toBe(true);
    expect((await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir, chunker: whole("whole:2") })()).fromCache).toBe(false);
    // The default chunker is a fourth entry of its own.
    expect((await corpusIndex({ folder, embeddings: counting().embeddings, cacheDir })()).fromCache).toBe(false);
    expect(readdirSync(cacheDir)).toHaveLength(3);
  });
});

describe("errors and in-memory indexes", () => {
  it("names a missing folder and an empty one with a CorpusError saying what to do", async () => {
    const missing = join(tmpdir(), "conclave-no-such-folder", "deeper");
    await expect(corpusIndex({ folder: missing, embeddings: new OfflineEmbeddings() })()).rejects.toMatchObject({ name: "CorpusError", message: `The corpus folder ${missing} does not exist. Point --corpus (or "corpus" in conclave.config.json) at a folder of .md or .txt files.`, details: { folder: missing } });
    const empty = mkdtempSync(join(tmpdir(), "conclave-empty-"));
    await expect(corpusIndex({ folder: empty, embeddings: new OfflineEmbeddings() })()).rejects.toMatchObject({ name: "CorpusError", code: "CORPUS_INVALID", category: "user", message: expect.stringContaining("has no .md or .txt files with text") });
  });

  it("indexes passages given in memory and searches them best first", async () => {
    const index = await createPassageIndex(
      [
        { id: "kiln#1", documentId: "kiln", title: "Kiln", text: "The kiln fires stoneware at 1,280 degrees." },
        { id: "loom#1", documentId: "loom", title: "Loom", text: "The loom weaves wool blankets." },
      ],
      new OfflineEmbeddings(),
    );
    const hits = await index.search("What temperature does the kiln fire at?", 2);
    expect(hits.map((hit) => hit.id)).toEqual(["kiln#1", "loom#1"]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(index.lookup("loom")).toHaveLength(1);
    await expect(createPassageIndex([], new OfflineEmbeddings())).rejects.toBeInstanceOf(CorpusError);
  });
});
