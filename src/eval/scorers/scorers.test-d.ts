// Compile-time checks of the scorers' public types (checked by `npm run typecheck`, not run).
import { expectTypeOf } from "vitest";
import { z } from "zod";
import type { Score, Scorer } from "../types.ts";
import { contextPrecision, costAtMost, exact, faithfulness, includes, matchesSchema, modelRubric, numeric, pairwiseJudge, retrievalHitAtK, tokenF1 } from "./index.ts";

// Deterministic scorers answer synchronously; model-graded ones return a promise.
const context = { seed: 1 };
declare const input: Parameters<Scorer["score"]>[0];
expectTypeOf(exact().score(input as never, context)).toEqualTypeOf<Score>();
expectTypeOf(modelRubric({ rubric: "r" }).score(input, context)).toEqualTypeOf<Score | Promise<Score>>();

// Scorers fit a suite's list whatever the suite's input and expected types.
type Question = { question: string };
const suiteScorers: Array<Scorer<Question, number>> = [numeric(), exact(), costAtMost(0.01), faithfulness(), retrievalHitAtK(3), contextPrecision()];
const textScorers: Array<Scorer<string, string>> = [exact(), includes(), tokenF1(), matchesSchema(z.object({ a: z.number() })), pairwiseJudge({ baseline: (sample) => String(sample.input) })];
expectTypeOf(suiteScorers).toBeArray();
expectTypeOf(textScorers).toBeArray();

// The expected answer a scorer reads is typed.
expectTypeOf(includes().score).parameter(0).toHaveProperty("sample").toHaveProperty("expected").toEqualTypeOf<string | string[] | undefined>();
