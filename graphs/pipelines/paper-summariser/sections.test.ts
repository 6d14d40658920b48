import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findMentions, groundedIn } from "./mentions.ts";
import { PaperInputError, loadPaper, splitPaper } from "./sections.ts";

const OPTIONS = { maxSectionChars: 12_000 };

describe("splitPaper", () => {
  it("takes the lone # heading as the title, splits at the top section level and keeps subsections inside", async () => {
    const paper = "# A Title\n\nBy A. Author\n\n## Intro\n\nFirst.\n\n### Detail\n\nInner.\n\n## Method\n\nSecond.\n\n## References\n\n- Someone (2020).";
    const { title, sections, skipped } = await splitPaper(paper, OPTIONS);
    expect(title).toBe("A Title");
    expect(sections).toEqual([
      { id: "s1", title: "Intro", text: "First.\n\n### Detail\n\nInner." },
      { id: "s2", title: "Method", text: "Second." },
    ]);
    expect(skipped.map((item) => item.title)).toEqual(["Front matter", "References"]);
  });

  it("reads a paper without headings as one section, and ignores # lines inside code blocks", async () => {
    expect((await splitPaper("Just prose.\nMore prose.", OPTIONS)).sections).toEqual([{ id: "s1", title: "Untitled paper", text: "Just prose.\nMore prose." }]);
    const fenced = "# T\n\n## Code\n\n```sh\n# not a heading\n```\n\n## End\n\nDone.";
    expect((await splitPaper(fenced, OPTIONS)).sections.map((section) => section.title)).toEqual(["Code", "End"]);
  });

  it("cuts a section longer than the limit into parts at paragraph boundaries", async () => {
    const paragraph = "Retrieval helps generation when the passages are relevant. ".repeat(12).trim();
    const { sections } = await splitPaper(`# T\n\n## Long\n\n${[paragraph, paragraph, paragraph].join("\n\n")}\n\n## Short\n\nEnd.`, { maxSectionChars: 800 });
    expect(sections.map((section) => section.id)).toEqual(["s1.1", "s1.2", "s1.3", "s2"]);
    expect(sections[0]!.title).toBe("Long (part 1 of 3)");
    for (const section of sections) expect(section.text.length).toBeLessThanOrEqual(800);
  });

  it("refuses a paper with nothing to summarise", async () => {
    await expect(splitPaper("# T\n\n## References\n\n- A (2020).", OPTIONS)).rejects.toThrow(PaperInputError);
  });
});

describe("loadPaper", () => {
  it("reads a markdown file named by the task, relative to the workspace, and takes any other text as the paper", () => {
    const cwd = mkdtempSync(join(tmpdir(), "conclave-paper-"));
    writeFileSync(join(cwd, "paper.md"), "# P\n\nText.");
    expect(loadPaper("paper.md", cwd)).toEqual({ markdown: "# P\n\nText.", path: join(cwd, "paper.md") });
    expect(loadPaper("# Inline\n\nText.", cwd)).toEqual({ markdown: "# Inline\n\nText." });
  });

  it("says where it looked when a named file is missing", () => {
    expect(() => loadPaper("missing/paper.md", "/tmp")).toThrow(/No paper at "missing\/paper.md" \(looked in \/tmp\/missing\/paper.md\)/);
  });
});

describe("findMentions", () => {
  it("finds names, acronyms, defined terms and emphasised terms, most frequent first", () => {
    const text = "Dense Passage Retrieval (DPR) was published at EMNLP 2020. DPR beats BM25 on Natural Questions. Answers are scored by exact match (EM). We call it **the index**.";
    const mentions = findMentions(text);
    expect(mentions[0]).toBe("DPR");
    expect(mentions).toEqual(expect.arrayContaining(["Dense Passage Retrieval", "EMNLP 2020", "BM25", "Natural Questions", "exact match", "EM", "the index"]));
    for (const mention of mentions) expect(groundedIn(mention, text), mention).toBe(true);
  });

  it("does not take a capitalised word that only starts sentences, nor a leading function word", () => {
    const mentions = findMentions("Retrieval is hard. The RAG model works. Both REALM and RAG learn. Written for Conclave users.");
    expect(mentions).toEqual(["RAG", "REALM", "Conclave"]);
  });
});

describe("groundedIn", () => {
  it("matches whole words, ignoring case, spacing and emphasis", () => {
    expect(groundedIn("dense passage retrieval", "We use **Dense\nPassage Retrieval** here.")).toBe(true);
    expect(groundedIn("RAG", "Fragments are not RAGs.")).toBe(false);
    expect(groundedIn("GPT-4", "GPT-3 is a model.")).toBe(false);
  });
});
