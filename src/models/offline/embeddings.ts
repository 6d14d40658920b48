import { Embeddings } from "@langchain/core/embeddings";
import { terms } from "./text.ts";

/** The name results show for the embedded embeddings. */
export const OFFLINE_EMBEDDINGS_NAME = "conclave-offline-hash";

/**
 * Deterministic offline embeddings: stemmed words and word pairs hashed into a fixed number of
 * signed dimensions (the "hashing trick"), log-scaled and L2-normalised, so cosine similarity
 * measures shared vocabulary. No network, no weights; lexical, not semantic — configure an
 * OpenAI-compatible embeddings model for meaning-level retrieval.
 */
export class OfflineEmbeddings extends Embeddings {
  readonly dimensions: number;
  readonly model = OFFLINE_EMBEDDINGS_NAME;

  constructor(options: { dimensions?: number } = {}) {
    super({});
    this.dimensions = options.dimensions ?? 512;
  }

  /** Yields to the event loop every 256 documents, so embedding a large corpus never holds it for long (a queue worker's job lock is renewed from it). */
  async embedDocuments(documents: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let index = 0; index < documents.length; index++) {
      vectors.push(this.embed(documents[index]!));
      if (index % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
    }
    return vectors;
  }

  async embedQuery(document: string): Promise<number[]> {
    return this.embed(document);
  }

  /** Synchronous form, for indexing without awaiting per document. */
  embed(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    const tokens = terms(text);
    const features = [...tokens, ...tokens.slice(1).map((token, index) => `${tokens[index]}_${token}`)];
    const counts = new Map<string, number>();
    for (const feature of features) counts.set(feature, (counts.get(feature) ?? 0) + 1);
    for (const [feature, count] of counts) {
      const hash = fnv1a(feature);
      const weight = (1 + Math.log(count)) * (feature.includes("_") ? 0.5 : 1);
      vector[hash % this.dimensions]! += hash & 0x80000000 ? -weight : weight;
    }
    const norm = Math.hypot(...vector) || 1;
    return vector.map((value) => value / norm);
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
