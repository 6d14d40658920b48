import { ConclaveError } from "../../errors.ts";
import type { ConclaveErrorOptions } from "../../errors.ts";
import type { Sample, Score, Scorer, ScorerContext, ScorerInput, TaskOutput } from "../types.ts";

/** A scorer that answers at once, without a model: `score` returns a `Score`, never a promise. */
export interface PureScorer<I = unknown, E = unknown> extends Scorer<I, E> {
  score(input: ScorerInput<I, E>, context: ScorerContext): Score;
}

/**
 * A scorer was set up wrongly or cannot score what it was given: no judge model, an invalid
 * pattern or budget, a sample without the expected answer the scorer compares with, a task that
 * does not report the context a retrieval scorer reads. Fix the suite or the dataset.
 */
export class ScorerError extends ConclaveError {
  override name = "ScorerError";
  constructor(message: string, options?: ConclaveErrorOptions) {
    super("EVAL_SCORER_INVALID", "user", message, options);
  }
}

/** The sample's expected answer, or a `ScorerError` naming the scorer and the sample. */
export function expectedOf<E>(scorer: string, sample: Sample<unknown, E>): E {
  if (sample.expected === undefined || sample.expected === null) {
    throw new ScorerError(`Scorer "${scorer}" compares with the expected answer, but sample "${sample.id}" has none. Add "expected" to the dataset row, or drop the scorer from the suite.`, { details: { scorer, sample: sample.id } });
  }
  return sample.expected;
}

/** The retrieved passages, or a `ScorerError` when the task does not report them. */
export function contextOf(scorer: string, sample: Sample, output: TaskOutput): Array<{ id: string; text: string }> {
  if (output.context) return output.context;
  throw new ScorerError(`Scorer "${scorer}" reads the passages the task retrieved, but the task reported no context for sample "${sample.id}". Return { context: [{ id, text }] } from the task, or drop the scorer.`, { details: { scorer, sample: sample.id } });
}

/** Shortens text for a reason line. */
export function clip(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
