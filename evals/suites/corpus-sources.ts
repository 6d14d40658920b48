import { chunkDocuments, readCorpus } from "../../tools/retrieve/corpus.ts";
import { BUNDLED_CORPUS } from "../../tools/index.ts";

let sources: ReadonlyMap<string, string> | undefined;

/**
 * The bundled corpus as citable sources: every document by its id ("apollo-11") and every
 * passage the retrieve tool returns by its id ("apollo-11#2"), each with its text. Read once.
 */
export function corpusSources(): ReadonlyMap<string, string> {
  if (sources) return sources;
  const documents = readCorpus(BUNDLED_CORPUS);
  sources = new Map([
    ...documents.map((document) => [document.id, document.text] as const),
    ...chunkDocuments(documents).map((passage) => [passage.id, passage.text] as const),
  ]);
  return sources;
}

/** The ids that name no document or passage of the bundled corpus. */
export function unknownSources(ids: readonly string[]): string[] {
  const known = corpusSources();
  return ids.filter((id) => !known.has(id));
}
