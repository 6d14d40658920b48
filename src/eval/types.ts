import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { Citation } from "../graph/citations.ts";

/** One dataset row. `id` is stable across runs (given, or a hash of the input), so runs can be compared sample by sample. */
export interface Sample<I = unknown, E = unknown> {
  id: string;
  input: I;
  expected?: E;
  /** Grouping keys for breakdowns (difficulty, topic, source…). */
  metadata?: Record<string, string | number | boolean>;
}

/** What a task produced for one sample, as scorers see it. */
export interface TaskOutput {
  /** The task's raw result (a graph's final state, an agent's answer, a function's return value). */
  output: unknown;
  /** The answer as text. */
  text: string;
  /** Citations the answer makes, when the task reports them. */
  citations?: Citation[];
  /** Passages the task retrieved, in rank order, when it reports them (for retrieval and faithfulness scorers). */
  context?: Array<{ id: string; text: string }>;
  usage: { modelCalls: number; inputTokens: number; outputTokens: number; totalTokens: number; costUsd: number };
  latencyMs: number;
}

/** A scorer's verdict on one output: 0 (wrong) to 1 (right), and why. */
export interface Score {
  score: number;
  reason: string;
  /** Raw values for reports, e.g. { precision, recall } or the judge's votes. */
  details?: Record<string, unknown>;
}

/** What a scorer receives. */
export interface ScorerInput<I = unknown, E = unknown> {
  sample: Sample<I, E>;
  output: TaskOutput;
}

/** What a scorer may use besides its input: a judge model for model-graded scorers, a seed, cancellation. */
export interface ScorerContext {
  /** The judge model(s) configured for the run (model-graded scorers). */
  judges?: BaseChatModel[];
  /** Seed for anything random (pairwise order), derived from the run's seed and the sample id. */
  seed: number;
  signal?: AbortSignal;
}

/** A named scoring function. Pure scorers return at once; model-graded ones call a judge. */
export interface Scorer<I = unknown, E = unknown> {
  name: string;
  /** What a passing score looks like, for reports ("1 = the number matches within 1e-6"). */
  description?: string;
  score(input: ScorerInput<I, E>, context: ScorerContext): Score | Promise<Score>;
}
