import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";

/**
 * Reading a corpus folder: Markdown and text files with optional front matter, split into
 * citable passages whose ids are `documentId#n`. Shared by the retrieve tool, check_support and
 * the RAG pattern, so every one of them cites the same ids.
 */

/** One document of a corpus, with where it came from. */
export interface CorpusDocument {
  id: string;
  title: string;
  /** Path relative to the corpus folder. */
  path: string;
  provenance?: string;
  licence?: string;
  text: string;
}

/** A retrievable piece of a document; `id` is `documentId#n`. */
export interface Passage {
  id: string;
  documentId: string;
  title: string;
  text: string;
}

const TEXT_FILES = new Set([".md", ".markdown", ".txt"]);
const MAX_FILES = 5_000;

/** Reads every text and Markdown file under `folder` (recursively); README files are documentation, not corpus. */
export function readCorpus(folder: string): CorpusDocument[] {
  return listCorpusFiles(folder).map((file) => parseDocument(relative(folder, file).split("\\").join("/"), readFileSync(file, "utf8")));
}

/** The corpus files under `folder`: text and Markdown, without README files, sorted. */
export function listCorpusFiles(folder: string): string[] {
  return listFiles(folder).filter((file) => TEXT_FILES.has(extname(file).toLowerCase()) && !/^readme\./i.test(file.split("/").at(-1) ?? ""));
}

function listFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const path = join(dir, name);
      const stats = statSync(path);
      if (stats.isDirectory()) walk(path);
      else if (stats.isFile() && out.length < MAX_FILES) out.push(path);
    }
  };
  walk(folder);
  return out;
}

/** Parses optional YAML-style front matter (`key: value` lines between `---`) and the body. */
export function parseDocument(path: string, raw: string): CorpusDocument {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(raw);
  const meta: Record<string, string> = {};
  for (const line of match?.[1]?.split(/\r?\n/) ?? []) {
    const pair = /^([\w-]+):\s*(.*)$/.exec(line);
    if (pair) meta[pair[1]!] = pair[2]!.trim();
  }
  const body = (match ? raw.slice(match[0].length) : raw).trim();
  const heading = /^#\s+(.+)$/m.exec(body)?.[1]?.trim();
  const id = meta.id ?? path.replace(/\.[^.]+$/, "").replace(/[^\w/-]+/g, "-");
  return {
    id,
    title: meta.title ?? heading ?? id,
    path,
    text: body.replace(/^#\s+.+$/m, "").trim(),
    ...(meta.provenance ? { provenance: meta.provenance } : {}),
    ...(meta.licence ?? meta.license ? { licence: meta.licence ?? meta.license! } : {}),
  };
}

/** Splits documents into passages of whole paragraphs, about `size` characters each. */
export function chunkDocuments(documents: readonly CorpusDocument[], size = 600): Passage[] {
  const passages: Passage[] = [];
  for (const document of documents) {
    let buffer = "";
    let index = 0;
    const flush = () => {
      if (buffer.trim()) passages.push({ id: `${document.id}#${++index}`, documentId: document.id, title: document.title, text: buffer.trim() });
      buffer = "";
    };
    for (const paragraph of document.text.split(/\n\s*\n/)) {
      const clean = paragraph.replace(/\s+/g, " ").trim();
      if (!clean) continue;
      if (buffer && buffer.length + clean.length > size) flush();
      buffer = buffer ? `${buffer} ${clean}` : clean;
    }
    flush();
  }
  return passages;
}
