import type { TaskOutput } from "../types.ts";
import { ScorerError } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

interface Measure {
  name: string;
  what: string;
  unit: string;
  read: (output: TaskOutput) => number;
  show: (value: number) => string;
}

const COST: Measure = { name: "cost", what: "cost", unit: "USD", read: (output) => output.usage.costUsd, show: (value) => `$${Number(value.toPrecision(4))}` };
const LATENCY: Measure = { name: "latency", what: "latency", unit: "ms", read: (output) => output.latencyMs, show: (value) => `${Math.round(value)} ms` };
const TOKENS: Measure = { name: "tokens", what: "token use", unit: "tokens", read: (output) => output.usage.totalTokens, show: (value) => `${value} tokens` };

function atMost(measure: Measure, limit: number): PureScorer {
  const name = `${measure.name}-at-most`;
  if (!Number.isFinite(limit) || limit < 0) throw new ScorerError(`Scorer "${name}": the budget must be a number ≥ 0 ${measure.unit} (got ${limit}).`, { details: { limit } });
  return {
    name,
    description: `1 = ${measure.what} is at most ${measure.show(limit)}`,
    score({ output }) {
      const value = measure.read(output);
      const within = value <= limit;
      return { score: within ? 1 : 0, reason: `${measure.show(value)} is ${within ? "within" : "over"} the budget of ${measure.show(limit)}.`, details: { [measure.name]: value, limit } };
    },
  };
}

function report(measure: Measure): PureScorer {
  return {
    name: measure.name,
    description: `reports the ${measure.what} (always 1)`,
    score({ output }) {
      const value = measure.read(output);
      return { score: 1, reason: `${measure.what[0]!.toUpperCase()}${measure.what.slice(1)}: ${measure.show(value)}.`, details: { [measure.name]: value } };
    },
  };
}

/** 1 when the sample's model calls cost at most `usd` dollars (`usage.costUsd`). */
export const costAtMost = (usd: number): PureScorer => atMost(COST, usd);
/** 1 when the task took at most `ms` milliseconds (`latencyMs`). */
export const latencyAtMost = (ms: number): PureScorer => atMost(LATENCY, ms);
/** 1 when the task used at most `n` tokens, input and output together (`usage.totalTokens`). */
export const tokensAtMost = (n: number): PureScorer => atMost(TOKENS, n);
/** Always 1; reports the cost in `details.cost` (USD) for reports. */
export const costScore = (): PureScorer => report(COST);
/** Always 1; reports the latency in `details.latency` (ms) for reports. */
export const latencyScore = (): PureScorer => report(LATENCY);
