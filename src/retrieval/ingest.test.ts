import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { DefinitionError } from "../errors.ts";
import { OfflineEmbeddings } from "../models/offline/embeddings.ts";
import { ingestFolder, textSplitterChunker } from "./ingest.ts";
import { parseDocument } from "./corpus.ts";

const sentence = (subject: string, index: number) => `The ${subject} log entry number ${index} records a calm night with light wind from the west.`;
const paragraph = (subject: string, count: number) => Array.from({ length: count }, (_, index) => sentence(subject, index + 1)).join(" ");

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "conclave-ingest-"));
  writeFileSync(join(dir, "lighthouse.md"), `---\nid: lighthouse\ntitle: Lighthouse log\n---\n\n# Lighthouse log\n\n${paragraph("lighthouse", 8)}\n`);
  writeFileSync(join(dir, "harbour.md"), `# Harbour log\n\n${paragraph("harbour", 6)}\n\n## Tides\n\n${paragraph("tide", 5)}\n`);
  writeFileSync(join(dir, "README.md"), "# Not a document\n\nREADME files are documentation, never indexed.\n");
  return dir;
}

/** The longest end of `a` that `b` starts with. */
function overlapOf(a: string, b: string): string {
  for (let length = Math.min(a.length, b.length); length > 0; length--) if (a.endsWith(b.slice(0, length))) return b.slice(0, length);
  return "";
}

describe("ingestFolder", () => {
  it("splits every Markdown file into chunks of at most chunkSize, each repeating the end of the one before", async () => {
    const chunkSize = 160;
    const chunkOverlap = 40;
    const index = await ingestFolder(folder(), { chunkSize, chunkOverlap, embeddings: new OfflineEmbeddings() });
    const byDocument = new Map<string, typeof index.passages>();
    for (const passage of index.passages) byDocument.set(passage.documentId, [...(byDocument.get(passage.documentId) ?? []), passage]);
    expect([...byDocument.keys()].sort()).toEqual(["harbour", "lighthouse"]);
    for (const [documentId, passages] of byDocument) {
      expect(passages.map((passage) => passage.id)).toEqual(passages.map((_, index) => `${documentId}#${index + 1}`));
      for (const passage of passages) expect(passage.text.length).toBeLessThanOrEqual(chunkSize);
    }
    // One long paragraph: every boundary falls inside it, so every pair of neighbours overlaps by whole words.
    const lighthouse = byDocument.get("lighthouse")!;
    expect(lighthouse.length).toBeGreaterThan(4);
    for (let index = 1; index < lighthouse.length; index++) {
      const shared = overlapOf(lighthouse[index - 1]!.text, lighthouse[index]!.text);
      expect(shared.length, `${lighthouse[index - 1]!.id} → ${lighthouse[index]!.id}`).toBeGreaterThan(0);
      expect(shared.length).toBeLessThanOrEqual(chunkOverlap);
      expect(lighthouse[index]!.text.startsWith(`${shared.trim()} `) || shared === lighthouse[index]!.text).toBe(true);
    }
    // Nothing is lost: every sentence of the document is whole in some chunk.
    for (let number = 1; number <= 8; number++) {
      const words = sentence("lighthouse", number).split(" ");
      expect(lighthouse.some((passage) => passage.text.includes(words.slice(0, 6).join(" "))), `start of sentence ${number}`).toBe(true);
    }
    expect(lighthouse[0]!.title).toBe("Lighthouse log");
  });

  it("splits Markdown at its headings first", async () => {
    // Each section fits a chunk, both together do not: the cut falls at the heading, not mid-paragraph.
    const chunker = textSplitterChunker({ chunkSize: 250, chunkOverlap: 0 });
    const document = parseDocument("harbour.md", `# Harbour log\n\n${paragraph("harbour", 2)}\n\n## Tides\n\n${paragraph("tide", 2)}\n`);
    const passages = await chunker.split([document]);
    expect(passages.map((passage) => passage.text.slice(0, 12))).toEqual(["The harbour ", "## Tides\n\nTh"]);
  });

  it("caches the index by contents and chunking", async () => {
    const dir = folder();
    const cacheDir = mkdtempSync(join(tmpdir(), "conclave-ingest-cache-"));
    const embeddings = new OfflineEmbeddings();
    const embed = vi.spyOn(embeddings, "embedDocuments");
    expect((await ingestFolder(dir, { chunkSize: 160, chunkOverlap: 40, embeddings, cacheDir })).fromCache).toBe(false);
    expect((await ingestFolder(dir, { chunkSize: 160, chunkOverlap: 40, embeddings, cacheDir })).fromCache).toBe(true);
    expect((await ingestFolder(dir, { chunkSize: 200, chunkOverlap: 40, embeddings, cacheDir })).fromCache).toBe(false);
    expect(embed).toHaveBeenCalledTimes(2);
  });

  it("refuses chunking that cannot work, saying what to pass", () => {
    const embeddings = new OfflineEmbeddings();
    expect(() => ingestFolder("docs", { chunkSize: 100, chunkOverlap: 100, embeddings })).toThrow(DefinitionError);
    expect(() => ingestFolder("docs", { chunkSize: 100, chunkOverlap: 100, embeddings })).toThrow(/chunkOverlap must be smaller than chunkSize.*Pass \{ chunkSize: 500, chunkOverlap: 80 \}/s);
    expect(() => ingestFolder("docs", { chunkSize: 0.5, chunkOverlap: 0, embeddings })).toThrow(DefinitionError);
    expect(() => ingestFolder("docs", { chunkSize: 100, chunkOverlap: 10 } as never)).toThrow(/needs embeddings/);
  });
});
