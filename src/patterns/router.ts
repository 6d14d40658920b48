import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { DefinitionError } from "../errors.ts";

/** What the router reads from a task: cheap, deterministic surface features (no model call). */
export interface TaskFeatures {
  characters: number;
  /** About four characters per token, as most tokenizers average on English. */
  estimatedTokens: number;
  /** Question marks (a run of them counts once). */
  questions: number;
  /** Numbers joined by an operator (`17 * 23`), a percentage, or arithmetic words with numbers. */
  hasArithmetic: boolean;
  /** A code fence, inline code, or a line that reads like source code. */
  hasCode: boolean;
  /** Steps the task asks for: numbered list items, or the parts of "first … then …" / "and then" wording (1 for a plain task, 0 for an empty one). */
  steps: number;
}

/** A model the router may choose. */
export interface RouteCandidate {
  name: string;
  model: BaseChatModel;
  /** USD per million tokens. Unknown cost fails a `maxCostPerMillion` limit and sorts last. */
  costPerMillion?: number;
  /** Typical latency in ms. Unknown latency fails a `maxLatencyMs` limit and sorts last. */
  latencyMs?: number;
  /** 1 (small) .. 3 (large). */
  capability: number;
}

/** When a task needs at least some capability. Rules are tried in order; the first that matches decides. */
export interface RouteRule {
  name: string;
  when: (features: TaskFeatures) => boolean;
  /** Minimum capability required. */
  minCapability: number;
}

export interface RouterOptions {
  candidates: RouteCandidate[];
  /** Default `DEFAULT_ROUTE_RULES`: long, multi-step or code → 3; arithmetic or several questions → 2; else 1. */
  rules?: RouteRule[];
  maxCostPerMillion?: number;
  maxLatencyMs?: number;
}

/** What `routeModel` chose, which rule applied and why that candidate. */
export interface RouteDecision {
  candidate: RouteCandidate;
  rule: string;
  reason: string;
}

/** Tasks at least this long (≈ 500 tokens) count as long. */
const LONG_TASK_CHARACTERS = 2_000;

/** The rules `routeModel` uses unless given its own. */
export const DEFAULT_ROUTE_RULES: readonly RouteRule[] = Object.freeze([
  { name: "long", when: (features) => features.characters >= LONG_TASK_CHARACTERS, minCapability: 3 },
  { name: "multi-step", when: (features) => features.steps >= 2, minCapability: 3 },
  { name: "code", when: (features) => features.hasCode, minCapability: 3 },
  { name: "arithmetic", when: (features) => features.hasArithmetic, minCapability: 2 },
  { name: "several-questions", when: (features) => features.questions >= 2, minCapability: 2 },
  { name: "simple", when: () => true, minCapability: 1 },
]);

// ISO dates and times look like subtraction and division; they are not arithmetic.
const DATE_LIKE = /\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}:\d{2}\b/g;
const OPERATION = /\d\s*(?:[-+*/×÷^]|\*\*)\s*[(\d]|\d\s*%|\(\s*\d[^()]*[-+*/×÷^][^()]*\)/;
const ARITHMETIC_WORDS = /\b(?:plus|minus|times|divided by|multiplied by|squared|cubed|square root|percent of|sum of|product of|average of)\b/i;
const CODE_LINE = /^\s*(?:(?:export\s+)?(?:async\s+)?function\s+\w+\s*\(|def\s+\w+\s*\(|class\s+\w+[\s:{(]|(?:const|let|var)\s+\w+\s*=|import\s+[\w{*][^\n]*\bfrom\b|#include\s*<|SELECT\s[\s\S]*?\sFROM\s|public\s+static\s)/im;
const NUMBERED_ITEM = /^\s*(?:\d+[.)]|step\s+\d+\s*[:.)-]?)\s+\S/gim;
const SEQUENCE_WORD = /\b(?:then|after that|afterwards|finally|subsequently)\b/gi;

/** Reads the routing features of a task. Deterministic and cheap enough to run on every request. */
export function taskFeatures(task: string): TaskFeatures {
  const characters = task.length;
  const plain = task.replace(DATE_LIKE, " ");
  const numbered = [...task.matchAll(NUMBERED_ITEM)].length;
  return {
    characters,
    estimatedTokens: Math.ceil(characters / 4),
    questions: task.match(/\?+/g)?.length ?? 0,
    hasArithmetic: OPERATION.test(plain) || (ARITHMETIC_WORDS.test(plain) && /\d/.test(plain)),
    hasCode: task.includes("```") || /`[^`\n]+`/.test(task) || CODE_LINE.test(task),
    steps: task.trim() === "" ? 0 : Math.max(1, numbered >= 2 ? numbered : 0, sequenceSteps(task)),
  };
}

/** "First A, then B and then C" → 3. A "then" only counts when it sequences, not in "if … then". */
function sequenceSteps(task: string): number {
  let transitions = 0;
  for (const match of task.matchAll(SEQUENCE_WORD)) {
    const before = task.slice(0, match.index);
    const sentence = before.slice(Math.max(before.lastIndexOf("."), before.lastIndexOf("?"), before.lastIndexOf("!"), before.lastIndexOf("\n")) + 1);
    if (match[0].toLowerCase() !== "then") {
      transitions++;
      continue;
    }
    if (/\bif\b/i.test(sentence)) continue;
    if (/(?:\band|[,;:])\s*$/i.test(before) || sentence.trim() === "" || /\bfirst(?:ly)?\b/i.test(before)) transitions++;
  }
  return transitions > 0 ? transitions + 1 : 1;
}

/**
 * Picks the model for a task. The first rule that matches the task's features sets the minimum
 * capability; among the candidates with that capability and within the cost and latency limits
 * the cheapest wins (then the fastest). If none qualifies, the most capable candidate within the
 * limits is used, else the most capable overall. `reason` always says which case applied.
 *
 * @example
 * const { candidate, reason } = routeModel("What is 17 * 23?", { candidates: [small, medium, large] });
 */
export function routeModel(task: string, options: RouterOptions): RouteDecision {
  const { candidates, rules = DEFAULT_ROUTE_RULES, maxCostPerMillion, maxLatencyMs } = options;
  if (!candidates?.length) throw new DefinitionError("routeModel needs at least one candidate model. Pass { candidates: [{ name, model, capability, costPerMillion }] }.");
  for (const candidate of candidates) {
    if (!Number.isFinite(candidate.capability)) throw new DefinitionError(`Route candidate "${candidate.name}" has capability ${String(candidate.capability)}; use a number from 1 (small) to 3 (large).`);
  }
  const features = taskFeatures(task);
  const rule = rules.find((candidateRule) => candidateRule.when(features));
  const minCapability = rule?.minCapability ?? 1;
  const ruleName = rule?.name ?? "none";
  const why = rule ? `rule "${rule.name}" needs capability ≥ ${minCapability}` : `no rule matched, so capability ≥ ${minCapability} will do`;

  const withinCost = (candidate: RouteCandidate) => maxCostPerMillion === undefined || (candidate.costPerMillion !== undefined && candidate.costPerMillion <= maxCostPerMillion);
  const withinLatency = (candidate: RouteCandidate) => maxLatencyMs === undefined || (candidate.latencyMs !== undefined && candidate.latencyMs <= maxLatencyMs);
  const withinLimits = candidates.filter((candidate) => withinCost(candidate) && withinLatency(candidate));
  const qualifying = withinLimits.filter((candidate) => candidate.capability >= minCapability);
  const limits = describeLimits(maxCostPerMillion, maxLatencyMs);

  if (qualifying.length) {
    const candidate = [...qualifying].sort(byCostThenLatency)[0]!;
    const others = qualifying.length === 1 ? "the only qualifying candidate" : `the cheapest of ${qualifying.length} qualifying candidates`;
    return { candidate, rule: ruleName, reason: `${why}; "${candidate.name}" (capability ${candidate.capability}, ${describeCost(candidate)}) is ${others}${limits ? ` within ${limits}` : ""}` };
  }
  if (withinLimits.length) {
    const candidate = [...withinLimits].sort(byCapabilityThenCost)[0]!;
    return { candidate, rule: ruleName, reason: `${why}, but no candidate${limits ? ` within ${limits}` : ""} has it; falling back to the most capable${limits ? " within the limits" : ""}: "${candidate.name}" (capability ${candidate.capability}, ${describeCost(candidate)})` };
  }
  const candidate = [...candidates].sort(byCapabilityThenCost)[0]!;
  return { candidate, rule: ruleName, reason: `${why}, but no candidate is within ${limits}; falling back to the most capable overall: "${candidate.name}" (capability ${candidate.capability}, ${describeCost(candidate)})` };
}

const costOf = (candidate: RouteCandidate) => candidate.costPerMillion ?? Number.POSITIVE_INFINITY;
const latencyOf = (candidate: RouteCandidate) => candidate.latencyMs ?? Number.POSITIVE_INFINITY;
// Array.prototype.sort is stable, so equal candidates keep the order they were given in.
const byCostThenLatency = (a: RouteCandidate, b: RouteCandidate) => costOf(a) - costOf(b) || latencyOf(a) - latencyOf(b) || 0;
const byCapabilityThenCost = (a: RouteCandidate, b: RouteCandidate) => b.capability - a.capability || byCostThenLatency(a, b);

function describeCost(candidate: RouteCandidate): string {
  const cost = candidate.costPerMillion === undefined ? "cost unknown" : `$${candidate.costPerMillion}/M tokens`;
  return candidate.latencyMs === undefined ? cost : `${cost}, ~${candidate.latencyMs} ms`;
}

function describeLimits(maxCost: number | undefined, maxLatency: number | undefined): string {
  return [maxCost === undefined ? "" : `cost ≤ $${maxCost}/M tokens`, maxLatency === undefined ? "" : `latency ≤ ${maxLatency} ms`].filter(Boolean).join(" and ");
}
