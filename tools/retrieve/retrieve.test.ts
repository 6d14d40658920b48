import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ToolInputParsingException } from "@langchain/core/tools";
import { OfflineEmbeddings, ToolExecutionError } from "conclave";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { chunkDocuments, parseDocument, readCorpus } from "./corpus.ts";
import type { CorpusDocument } from "./corpus.ts";
import { BUNDLED_CORPUS, buildIndex, createRetrieveTool } from "./index.ts";

const normalise = (text: string) => text.replace(/\s+/g, " ").trim();

/** Splits the tool's output into `{ id, text }` blocks, checking each starts with `[id] `. */
function blocks(output: string): Array<{ id: string; text: string }> {
  return output.split("\n\n").map((block) => {
    const match = /^\[([^\]\s]+)\] ([\s\S]+)$/.exec(block);
    if (!match) throw new Error(`block does not start with [id]: ${block.slice(0, 80)}`);
    return { id: match[1]!, text: match[2]! };
  });
}

/** Checks that every block's text really is in the document its id names. */
function expectGrounded(output: string, documents: readonly CorpusDocument[]): void {
  for (const { id, text } of blocks(output)) {
    const documentId = id.replace(/#\d+$/, "");
    const document = documents.find((candidate) => candidate.id === documentId);
    expect(document, `no document for ${id}`).toBeDefined();
    expect(normalise(document!.text)).toContain(normalise(text));
  }
}

const bundled = readCorpus(BUNDLED_CORPUS);

describe("bundled corpus", () => {
  it("has documents, each with id, title, provenance and licence front matter", () => {
    expect(bundled.length).toBeGreaterThanOrEqual(20);
    for (const document of bundled) {
      const raw = fs.readFileSync(path.join(BUNDLED_CORPUS, document.path), "utf8");
      expect(raw.startsWith("---\n"), document.path).toBe(true);
      expect(document.id).toBe(path.basename(document.path, ".md"));
      expect(document.title.length).toBeGreaterThan(0);
      expect(document.title).not.toBe(document.id);
      expect(document.provenance).toMatch(/Conclave/);
      expect(document.licence).toBe("CC0-1.0");
      expect(document.text.length).toBeGreaterThan(200);
    }
    expect(new Set(bundled.map((document) => document.id)).size).toBe(bundled.length);
  });

  it("leaves the README out of the corpus", () => {
    expect(fs.existsSync(path.join(BUNDLED_CORPUS, "README.md"))).toBe(true);
    expect(bundled.some((document) => /readme/i.test(document.path))).toBe(false);
  });

  it("splits into passages whose ids are <documentId>#<n>, numbered from 1 per document", () => {
    const passages = chunkDocuments(bundled);
    const ids = new Set(bundled.map((document) => document.id));
    const seen = new Map<string, number>();
    for (const passage of passages) {
      const match = /^(.+)#(\d+)$/.exec(passage.id);
      expect(match, passage.id).not.toBeNull();
      expect(match![1]).toBe(passage.documentId);
      expect(ids.has(passage.documentId)).toBe(true);
      const expected = (seen.get(passage.documentId) ?? 0) + 1;
      expect(Number(match![2])).toBe(expected);
      seen.set(passage.documentId, expected);
    }
    expect(seen.size).toBe(bundled.length);
  });
});

describe("parseDocument and chunkDocuments", () => {
  it("reads front matter and takes the title from it, dropping the heading from the text", () => {
    const document = parseDocument("x/kites.md", "---\nid: kites\ntitle: Kites\nprovenance: mine\nlicense: MIT\n---\n\n# Kites of the world\n\nKites fly.\n");
    expect(document).toEqual({ id: "kites", title: "Kites", path: "x/kites.md", provenance: "mine", licence: "MIT", text: "Kites fly." });
  });

  it("without front matter derives the id from the path and the title from the heading", () => {
    const document = parseDocument("notes/My Trip (2024).txt", "# Summer trip\r\n\r\nWe went north.");
    expect(document.id).toBe("notes/My-Trip-2024-");
    expect(document.title).toBe("Summer trip");
    expect(document.text).toBe("We went north.");
    expect(document).not.toHaveProperty("licence");
  });

  it("keeps whole paragraphs together and starts a new passage when one would grow past the size", () => {
    const paragraph = (word: string) => Array.from({ length: 30 }, () => word).join(" ");
    const document = parseDocument("p.md", [paragraph("alpha"), paragraph("beta"), paragraph("gamma")].join("\n\n"));
    const passages = chunkDocuments([document], 400);
    expect(passages.map((passage) => passage.id)).toEqual(["p#1", "p#2"]);
    expect(passages[0]!.text).toBe(`${paragraph("alpha")} ${paragraph("beta")}`);
    expect(passages[1]!.text).toBe(paragraph("gamma"));
  });
});

describe("retrieve over the bundled corpus", () => {
  const tool = createRetrieveTool({ embeddings: new OfflineEmbeddings() });

  it.each([
    ["Who set up the first printing press in England?", "printing-press", "William Caxton"],
    ["When did Apollo 11 land on the Moon?", "apollo-11", "Apollo 11"],
    ["How tall is Mount Everest in metres?", "mount-everest", "8,848.86"],
  ])("answers %j from %s first", async (query, documentId, fact) => {
    const found = blocks(await tool.invoke({ query }));
    expect(found[0]!.id.startsWith(`${documentId}#`)).toBe(true);
    expect(found[0]!.text).toContain(fact);
  });

  it("returns [id] blocks whose text is in the cited document", async () => {
    const output = await tool.invoke({ query: "How do honeybees communicate where flowers are?" });
    expect(output.startsWith("[")).toBe(true);
    expectGrounded(output, bundled);
  });

  it("returns 4 passages by default and k when given", async () => {
    expect(blocks(await tool.invoke({ query: "speed of light in a vacuum" }))).toHaveLength(4);
    const two = blocks(await tool.invoke({ query: "speed of light in a vacuum", k: 2 }));
    expect(two).toHaveLength(2);
    expect(new Set(two.map((block) => block.id)).size).toBe(2);
    expect(blocks(await tool.invoke({ query: "speed of light in a vacuum", k: 1 }))).toHaveLength(1);
  });

  it("uses the k given when the tool was created", async () => {
    const narrow = createRetrieveTool({ embeddings: new OfflineEmbeddings(), k: 3 });
    expect(blocks(await narrow.invoke({ query: "black holes and gravity" }))).toHaveLength(3);
  });

  it("rejects a k outside 1-10 or an empty query through the schema", async () => {
    await expect(tool.invoke({ query: "x", k: 11 })).rejects.toBeInstanceOf(ToolInputParsingException);
    await expect(tool.invoke({ query: "x", k: 0 })).rejects.toBeInstanceOf(ToolInputParsingException);
    await expect(tool.invoke({ query: "" })).rejects.toBeInstanceOf(ToolInputParsingException);
  });
});

describe("buildIndex", () => {
  it("indexes every passage and ranks hits by descending score", async () => {
    const index = await buildIndex(BUNDLED_CORPUS, new OfflineEmbeddings());
    expect(index.passages).toEqual(chunkDocuments(bundled));
    const hits = await index.search("Rosetta Stone hieroglyphs decipherment", 5);
    expect(hits).toHaveLength(5);
    expect(hits[0]!.documentId).toBe("rosetta-stone");
    for (let rank = 1; rank < hits.length; rank++) expect(hits[rank]!.score).toBeLessThanOrEqual(hits[rank - 1]!.score);
  });
});

describe("retrieve over a user folder", () => {
  let folder: string;
  let documents: CorpusDocument[];

  beforeAll(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-corpus-"));
    fs.mkdirSync(path.join(folder, "kitchen"));
    fs.writeFileSync(
      path.join(folder, "lighthouse.md"),
      "---\nid: lighthouse\ntitle: The Harbour Lighthouse\nlicence: CC0-1.0\n---\n\n# The Harbour Lighthouse\n\nThe harbour lighthouse was painted green and white by keeper Marta Ilves in 1931.\n\nIts lamp burns whale oil no longer; since 1962 it has used an electric bulb.\n",
    );
    fs.writeFileSync(
      path.join(folder, "kitchen", "sourdough.txt"),
      "Sourdough starter\n\nFeed the starter with equal weights of rye flour and water every twelve hours.\n\nThe loaf bakes for forty minutes in a cast iron pot.\n",
    );
    fs.writeFileSync(path.join(folder, "README.md"), "# About this folder\n\nThe zeppelin hangar keeper wrote this readme about zeppelin airships.\n");
    documents = readCorpus(folder);
  });

  afterAll(() => {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it("reads the .md and .txt files, recursively, and ignores README.md", () => {
    expect(documents.map((document) => document.id).sort()).toEqual(["kitchen/sourdough", "lighthouse"]);
    expect(documents.some((document) => document.text.includes("zeppelin"))).toBe(false);
  });

  it("answers from the user's documents", async () => {
    const tool = createRetrieveTool({ corpus: folder, embeddings: new OfflineEmbeddings() });
    const lighthouse = await tool.invoke({ query: "Who painted the harbour lighthouse green?" });
    expect(blocks(lighthouse)[0]).toMatchObject({ id: "lighthouse#1" });
    expect(lighthouse).toContain("Marta Ilves");
    expectGrounded(lighthouse, documents);

    const bread = await tool.invoke({ query: "How often do I feed the sourdough starter with rye flour?", k: 1 });
    expect(blocks(bread)).toEqual([{ id: "kitchen/sourdough#1", text: expect.stringContaining("every twelve hours") }]);
  });

  it("never returns README text, even for a query about it", async () => {
    const tool = createRetrieveTool({ corpus: folder, embeddings: new OfflineEmbeddings() });
    const output = await tool.invoke({ query: "zeppelin hangar readme", k: 10 });
    expect(output).not.toMatch(/zeppelin/i);
    expect(blocks(output).length).toBe(chunkDocuments(documents).length);
  });

  it("builds the index once per tool", async () => {
    const embeddings = new OfflineEmbeddings();
    const embedDocuments = vi.spyOn(embeddings, "embedDocuments");
    const embedQuery = vi.spyOn(embeddings, "embedQuery");
    const tool = createRetrieveTool({ corpus: folder, embeddings });
    await Promise.all([tool.invoke({ query: "lighthouse" }), tool.invoke({ query: "bread" })]);
    await tool.invoke({ query: "lamp" });
    expect(embedDocuments).toHaveBeenCalledTimes(1);
    expect(embedQuery).toHaveBeenCalledTimes(3);
    // A second tool has its own index.
    await createRetrieveTool({ corpus: folder, embeddings }).invoke({ query: "lighthouse" });
    expect(embedDocuments).toHaveBeenCalledTimes(2);
  });
});

describe("retrieve errors", () => {
  it("reports a missing corpus folder by path", async () => {
    const missing = path.join(os.tmpdir(), "conclave-no-such-corpus-folder", "nested");
    const tool = createRetrieveTool({ corpus: missing, embeddings: new OfflineEmbeddings() });
    const call = tool.invoke({ query: "anything" });
    await expect(call).rejects.toBeInstanceOf(ToolExecutionError);
    await expect(call).rejects.toThrow(`The corpus folder ${missing} does not exist`);
  });

  it("reports a file given as the corpus folder", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-corpus-file-"));
    const file = path.join(folder, "one.md");
    fs.writeFileSync(file, "Just one file.");
    try {
      await expect(buildIndex(file, new OfflineEmbeddings())).rejects.toThrow(/does not exist/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it("reports an empty folder (only a README and non-text files) and retries once documents appear", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-corpus-empty-"));
    try {
      fs.writeFileSync(path.join(folder, "README.md"), "Documentation, not corpus.");
      fs.writeFileSync(path.join(folder, "data.json"), "{}");
      const tool = createRetrieveTool({ corpus: folder, embeddings: new OfflineEmbeddings() });
      await expect(tool.invoke({ query: "anything" })).rejects.toThrow(`The corpus folder ${folder} has no .md or .txt files with text`);
      // The failed build is not cached: adding a document makes the next call work.
      fs.writeFileSync(path.join(folder, "owls.md"), "# Owls\n\nBarn owls hunt mice at night by sound.");
      expect(await tool.invoke({ query: "How do barn owls hunt?" })).toMatch(/^\[owls#1\] Barn owls hunt mice/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
