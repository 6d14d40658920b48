import { extractCitations } from "../../graph/citations.ts";
import { clip } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

export interface CitationCorrectnessOptions {
  /** The text of a source by id, or undefined when there is no such source. */
  sources: (id: string) => string | undefined;
  /** Score an answer that cites nothing as 0 (default true); false scores it 1. */
  requireCitations?: boolean;
  name?: string;
}

const QUOTE = /"([^"]{3,})"|“([^”]{3,})”/g;
const squash = (text: string) => text.replace(/\s+/g, " ").trim().toLowerCase();

/**
 * Share of the answer's citations that hold: the cited source exists and contains every passage
 * the citing sentence quotes ("…" or “…”, compared ignoring case and whitespace). Citations are
 * `output.citations`, else the `[source-id]` markers in the text. An id "doc#chunk" that is not a
 * source itself falls back to its document "doc".
 */
export function citationCorrectness(options: CitationCorrectnessOptions): PureScorer {
  const name = options.name ?? "citation-correctness";
  const requireCitations = options.requireCitations ?? true;
  const lookup = (id: string) => options.sources(id) ?? (id.includes("#") ? options.sources(id.slice(0, id.indexOf("#"))) : undefined);
  return {
    name,
    description: "1 = every citation names a real source that contains what it quotes",
    score({ output }) {
      const citations = output.citations ?? extractCitations(output.text);
      if (citations.length === 0) {
        return requireCitations ? { score: 0, reason: "The answer cites no sources." } : { score: 1, reason: "The answer cites no sources; none to check." };
      }
      const problems: Array<{ source: string; problem: string }> = [];
      for (const citation of citations) {
        const text = lookup(citation.source);
        if (text === undefined) {
          problems.push({ source: citation.source, problem: `[${citation.source}] is not a known source` });
          continue;
        }
        const quotes = [...citation.text.matchAll(QUOTE)].map((match) => (match[1] ?? match[2])!);
        const missing = quotes.filter((quote) => !squash(text).includes(squash(quote)));
        if (missing.length) problems.push({ source: citation.source, problem: `[${citation.source}] does not contain ${missing.map((quote) => `"${clip(quote, 60)}"`).join(", ")}` });
      }
      const correct = citations.length - problems.length;
      const reason = problems.length === 0
        ? `All ${citations.length} citation${citations.length === 1 ? "" : "s"} hold.`
        : `${correct} of ${citations.length} citations hold: ${problems.map((item) => item.problem).join("; ")}.`;
      return { score: correct / citations.length, reason, details: { citations: citations.length, correct, problems } };
    },
  };
}
