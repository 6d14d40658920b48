import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { MarkdownTextSplitter } from "@langchain/textsplitters";
import { ConclaveError } from "conclave";
import type { Section, SkippedSection } from "./state.ts";

/** The paper could not be read, or has nothing to summarise. */
export class PaperInputError extends ConclaveError {
  override name = "PaperInputError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("PAPER_INPUT_INVALID", "user", message, { details });
  }
}

/** Sections whose text is not the paper's content: summarising a bibliography only adds noise. */
const NOT_CONTENT = /^(?:\d+(?:\.\d+)*\.?\s+)?(?:references|bibliography|acknowledge?ments?|works cited)\s*$/i;
const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const PATH_LIKE = /^[^\n]{1,400}\.(?:md|markdown|txt)$/i;

/**
 * The paper's markdown: the task itself, or the file it names (relative to `cwd`). A one-line
 * task that names a markdown file which does not exist is a mistake, not a one-line paper.
 */
export function loadPaper(source: string, cwd: string): { markdown: string; path?: string } {
  const trimmed = source.trim();
  if (!trimmed.includes("\n")) {
    const path = isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed);
    if (existsSync(path) && statSync(path).isFile() && !trimmed.startsWith("#")) return { markdown: readFileSync(path, "utf8"), path };
    if (PATH_LIKE.test(trimmed)) throw new PaperInputError(`No paper at "${trimmed}" (looked in ${path}). Pass the path of a markdown file, relative to the workspace, or the paper's markdown itself.`, { path });
  }
  if (trimmed === "") throw new PaperInputError("The paper is empty. Pass the path of a markdown file or the paper's markdown.");
  return { markdown: source };
}

export interface SplitOptions {
  /** Longer sections are cut (at paragraph boundaries) into parts that fit one summarisation call. */
  maxSectionChars: number;
}

export interface SplitPaper {
  title: string;
  sections: Section[];
  skipped: SkippedSection[];
}

/**
 * Splits a markdown paper at its top section level: the first `#` heading is the title when
 * other headings follow, and deeper headings stay inside their section. Front matter (text before
 * the first section), references and acknowledgements are listed as skipped, not summarised; a
 * paper without headings is one section.
 */
export async function splitPaper(markdown: string, options: SplitOptions): Promise<SplitPaper> {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const headings = headingLines(lines);
  let title = "Untitled paper";
  let rest = headings;
  if (headings[0]?.level === 1 && headings.filter((heading) => heading.level === 1).length === 1 && headings.length > 1) {
    title = headings[0].text;
    rest = headings.slice(1);
  }
  const level = Math.min(...rest.map((heading) => heading.level));
  const starts = rest.filter((heading) => heading.level === level);
  const titleLine = rest === headings ? -1 : headings[0]!.line;
  const raw: Array<{ title: string; text: string }> = [];
  const front = lines.slice(titleLine + 1, starts[0]?.line ?? lines.length).join("\n").trim();
  const skipped: SkippedSection[] = [];
  // Before the first section sit the title block, authors and notes: not the paper's argument.
  if (front && starts.length) skipped.push({ title: "Front matter", reason: "text before the first section (title block, authors, notes)" });
  else if (front) raw.push({ title, text: front });
  starts.forEach((start, index) => raw.push({ title: start.text, text: lines.slice(start.line + 1, starts[index + 1]?.line ?? lines.length).join("\n").trim() }));

  const sections: Section[] = [];
  let numbered = 0;
  const splitter = new MarkdownTextSplitter({ chunkSize: options.maxSectionChars, chunkOverlap: 0 });
  for (const candidate of raw) {
    if (NOT_CONTENT.test(candidate.title)) {
      skipped.push({ title: candidate.title, reason: "not content (references or acknowledgements)" });
    } else if (candidate.text === "") {
      skipped.push({ title: candidate.title, reason: "empty" });
    } else {
      const id = `s${++numbered}`;
      // LangChain's splitter cuts at headings, then paragraphs, then sentences: each part still reads as prose.
      const parts = candidate.text.length > options.maxSectionChars ? await splitter.splitText(candidate.text) : [candidate.text];
      if (parts.length === 1) sections.push({ id, title: candidate.title, text: candidate.text });
      else parts.forEach((text, part) => sections.push({ id: `${id}.${part + 1}`, title: `${candidate.title} (part ${part + 1} of ${parts.length})`, text }));
    }
  }
  if (sections.length === 0) throw new PaperInputError("The paper has no text to summarise (every section is empty or a reference list).");
  return { title, sections, skipped };
}

interface Heading {
  line: number;
  level: number;
  text: string;
}

/** ATX headings outside fenced code blocks (a `# comment` in a code sample is not a heading). */
function headingLines(lines: readonly string[]): Heading[] {
  const found: Heading[] = [];
  let fenced = false;
  lines.forEach((line, index) => {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const match = fenced ? null : HEADING.exec(line);
    if (match) found.push({ line: index, level: match[1]!.length, text: match[2]!.trim() });
  });
  return found;
}
