import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OfflineEmbeddings } from "conclave";
import { describe, expect, it, vi } from "vitest";
import { corpusIndex } from "./passage-index.ts";

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
});
