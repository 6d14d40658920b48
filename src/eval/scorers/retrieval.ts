import type { Sample } from "../types.ts";
import { ScorerError, contextOf } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

export interface RetrievalOptions {
  /**
   * The relevant source ids of a sample. Default: `sample.metadata.sources`, a comma-separated
   * list ("apollo-11, saturn-v"), so `expected` stays free for the answer other scorers check.
   */
  relevant?: (sample: Sample) => string[];
  name?: string;
}

const documentOf = (id: string) => (id.includes("#") ? id.slice(0, id.indexOf("#")) : id);

/**
 * Whether a retrieved id is one of the relevant ids: the same id, or one is the other's document
 * ("apollo-11#2" matches relevant "apollo-11", and retrieving "apollo-11" covers "apollo-11#2").
 * Two different chunks of one document do not match.
 */
export function sameSource(retrieved: string, relevant: string): boolean {
  return retrieved === relevant || documentOf(retrieved) === relevant || retrieved === documentOf(relevant);
}

function relevantIds(name: string, sample: Sample, options: RetrievalOptions): string[] {
  const raw = options.relevant ? options.relevant(sample) : String(sample.metadata?.sources ?? "").split(",");
  const ids = raw.map((id) => id.trim()).filter((id) => id.length > 0);
  if (ids.length > 0) return ids;
  throw new ScorerError(`Scorer "${name}" needs the relevant source ids of sample "${sample.id}". Add metadata.sources ("doc-a, doc-b") to the dataset row, or pass { relevant: (sample) => ids }.`, { details: { scorer: name, sample: sample.id } });
}

/** 1 when any relevant source is among the first `k` passages the task retrieved. */
export function retrievalHitAtK(k: number, options: RetrievalOptions = {}): PureScorer {
  const name = options.name ?? `hit@${k}`;
  if (!Number.isInteger(k) || k < 1) throw new ScorerError(`Scorer "${name}": k must be a whole number ≥ 1 (got ${k}).`, { details: { k } });
  return {
    name,
    description: `1 = a relevant source is in the top ${k} retrieved passages`,
    score({ sample, output }) {
      const relevant = relevantIds(name, sample, options);
      const top = contextOf(name, sample, output).slice(0, k).map((passage) => passage.id);
      const rank = top.findIndex((id) => relevant.some((wanted) => sameSource(id, wanted)));
      if (rank >= 0) return { score: 1, reason: `Relevant source ${top[rank]} is at rank ${rank + 1} of ${k}.`, details: { rank: rank + 1, k } };
      const seen = top.length ? top.join(", ") : "nothing";
      return { score: 0, reason: `None of ${relevant.join(", ")} is in the top ${k}; retrieved ${seen}.`, details: { rank: null, k, retrieved: top } };
    },
  };
}

/**
 * Ragas context precision: the mean, over the ranks r holding a relevant passage, of precision@r
 * (relevant passages in the first r / r) — 1 when every relevant passage comes before every
 * irrelevant one, 0 when none is retrieved. `k` limits the passages looked at (default all).
 */
export function contextPrecision(options: RetrievalOptions & { k?: number } = {}): PureScorer {
  const name = options.name ?? "context-precision";
  const k = options.k;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) throw new ScorerError(`Scorer "${name}": k must be a whole number ≥ 1 (got ${k}).`, { details: { k } });
  return {
    name,
    description: "1 = the relevant passages are ranked above all others",
    score({ sample, output }) {
      const relevant = relevantIds(name, sample, options);
      const retrieved = contextOf(name, sample, output).slice(0, k).map((passage) => passage.id);
      const ranks: number[] = [];
      let sum = 0;
      retrieved.forEach((id, index) => {
        if (!relevant.some((wanted) => sameSource(id, wanted))) return;
        ranks.push(index + 1);
        sum += ranks.length / (index + 1);
      });
      if (ranks.length === 0) return { score: 0, reason: `No relevant passage among the ${retrieved.length} retrieved (${relevant.join(", ")} wanted).`, details: { ranks } };
      const score = sum / ranks.length;
      return { score, reason: `Context precision ${Number(score.toFixed(3))}: relevant passages at rank${ranks.length === 1 ? "" : "s"} ${ranks.join(", ")} of ${retrieved.length}.`, details: { ranks, retrieved: retrieved.length } };
    },
  };
}
