import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { scriptedModel } from "../testing/index.ts";
import { DEFAULT_ROUTE_RULES, routeModel, taskFeatures } from "./router.ts";
import type { RouteCandidate } from "./router.ts";

const small: RouteCandidate = { name: "small", model: scriptedModel(), capability: 1, costPerMillion: 0.1, latencyMs: 300 };
const medium: RouteCandidate = { name: "medium", model: scriptedModel(), capability: 2, costPerMillion: 0.6, latencyMs: 600 };
const large: RouteCandidate = { name: "large", model: scriptedModel(), capability: 3, costPerMillion: 10, latencyMs: 2_000 };
const candidates = [large, small, medium];

describe("taskFeatures", () => {
  it("counts characters, tokens and questions", () => {
    const features = taskFeatures("Who wrote Hamlet? And when??");
    expect(features).toMatchObject({ characters: 28, estimatedTokens: 7, questions: 2, hasArithmetic: false, hasCode: false, steps: 1 });
    expect(taskFeatures("").steps).toBe(0);
  });

  it("spots arithmetic, but not dates or times", () => {
    expect(taskFeatures("What is 17 * 23 + 4?").hasArithmetic).toBe(true);
    expect(taskFeatures("What is 15% of 80?").hasArithmetic).toBe(true);
    expect(taskFeatures("What is 12 divided by 4?").hasArithmetic).toBe(true);
    expect(taskFeatures("What happened on 1969-07-20 at 20:17?").hasArithmetic).toBe(false);
    expect(taskFeatures("Who discovered penicillin?").hasArithmetic).toBe(false);
  });

  it("spots code in fences, inline code and source-like lines", () => {
    expect(taskFeatures("Why does this fail?\n```ts\nconst x: number = 'a';\n```").hasCode).toBe(true);
    expect(taskFeatures("What does `Array.prototype.flat` return?").hasCode).toBe(true);
    expect(taskFeatures("def add(a, b):\n    return a + b\nIs this right?").hasCode).toBe(true);
    expect(taskFeatures("What is the capital of France?").hasCode).toBe(false);
  });

  it("counts steps from sequencing words and numbered lists, not from if … then", () => {
    expect(taskFeatures("First find the population of Kenya, then divide it by its area.").steps).toBe(2);
    expect(taskFeatures("Look up the price and then convert it to euros, and then round it.").steps).toBe(3);
    expect(taskFeatures("Do this:\n1. Read the file.\n2. Count the words.\n3. Report the total.").steps).toBe(3);
    expect(taskFeatures("If it rains then what happens to the match?").steps).toBe(1);
  });
});

describe("routeModel", () => {
  it("chooses the cheapest candidate that the first matching rule allows", () => {
    expect(routeModel("Who discovered penicillin?", { candidates })).toMatchObject({ candidate: small, rule: "simple" });
    const arithmetic = routeModel("What is 17 * 23 + 4?", { candidates });
    expect(arithmetic).toMatchObject({ candidate: medium, rule: "arithmetic" });
    expect(arithmetic.reason).toMatch(/rule "arithmetic" needs capability ≥ 2; "medium" .* cheapest of 2 qualifying/);
    expect(routeModel("First find the date, then compute the weekday.", { candidates })).toMatchObject({ candidate: large, rule: "multi-step" });
    expect(routeModel("Fix:\n```js\nlet a = b\n```", { candidates })).toMatchObject({ candidate: large, rule: "code" });
    expect(routeModel("Who? What?", { candidates }).candidate).toBe(medium);
  });

  it("breaks cost ties by latency", () => {
    const quick = { ...medium, name: "quick", latencyMs: 200 };
    expect(routeModel("What is 2 + 2?", { candidates: [medium, quick, large] }).candidate).toBe(quick);
  });

  it("respects cost and latency limits", () => {
    const cheapLarge: RouteCandidate = { name: "cheap-large", model: scriptedModel(), capability: 3, costPerMillion: 2, latencyMs: 5_000 };
    const all = [...candidates, cheapLarge];
    // cheap-large is cheaper than large but too slow for the latency limit.
    expect(routeModel("First A, then B.", { candidates: all }).candidate).toBe(cheapLarge);
    expect(routeModel("First A, then B.", { candidates: all, maxLatencyMs: 3_000 }).candidate).toBe(large);
    const limited = routeModel("What is 3 * 4?", { candidates: all, maxCostPerMillion: 5 });
    expect(limited.candidate).toBe(medium);
    expect(limited.reason).toContain("within cost ≤ $5/M tokens");
    // A candidate with unknown cost cannot be shown to meet a cost limit.
    const unknown: RouteCandidate = { name: "unknown", model: scriptedModel(), capability: 2 };
    expect(routeModel("What is 3 * 4?", { candidates: [unknown, small], maxCostPerMillion: 5 }).candidate).toBe(small);
    // Without a limit it may be chosen, but sorts after every priced candidate.
    expect(routeModel("What is 3 * 4?", { candidates: [unknown, medium] }).candidate).toBe(medium);
    expect(routeModel("What is 3 * 4?", { candidates: [unknown, small] }).candidate).toBe(unknown);
  });

  it("falls back to the most capable candidate within the limits, and says why", () => {
    const decision = routeModel("First A, then B.", { candidates, maxCostPerMillion: 1 });
    expect(decision).toMatchObject({ candidate: medium, rule: "multi-step" });
    expect(decision.reason).toMatch(/needs capability ≥ 3, but no candidate within cost ≤ \$1\/M tokens has it; falling back to the most capable within the limits: "medium"/);
    const noLimits = routeModel("First A, then B.", { candidates: [small, medium] });
    expect(noLimits.candidate).toBe(medium);
    expect(noLimits.reason).toMatch(/no candidate has it; falling back to the most capable: "medium"/);
  });

  it("falls back to the most capable overall when nothing meets the limits", () => {
    const decision = routeModel("Hello?", { candidates, maxCostPerMillion: 0.01, maxLatencyMs: 100 });
    expect(decision.candidate).toBe(large);
    expect(decision.reason).toMatch(/no candidate is within cost ≤ \$0.01\/M tokens and latency ≤ 100 ms; falling back to the most capable overall: "large"/);
  });

  it("uses custom rules in order, and capability 1 when none matches", () => {
    const rules = [{ name: "legal", when: (features: ReturnType<typeof taskFeatures>) => features.characters > 10, minCapability: 3 }];
    expect(routeModel("Is this contract valid?", { candidates, rules })).toMatchObject({ candidate: large, rule: "legal" });
    const none = routeModel("Hi", { candidates, rules });
    expect(none).toMatchObject({ candidate: small, rule: "none" });
    expect(none.reason).toMatch(/no rule matched/);
    expect(DEFAULT_ROUTE_RULES.at(-1)?.name).toBe("simple");
  });

  it("rejects an empty candidate list with a DefinitionError", () => {
    expect(() => routeModel("Hi", { candidates: [] })).toThrow(DefinitionError);
    expect(() => routeModel("Hi", { candidates: [] })).toThrow(/at least one candidate/);
    expect(() => routeModel("Hi", { candidates: [{ ...small, capability: Number.NaN }] })).toThrow(/capability NaN/);
  });
});
