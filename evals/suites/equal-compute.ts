import { HumanMessage } from "@langchain/core/messages";
import { DefinitionError, answerFromMessages, createAgentGraph, createDebateGraph, defineAgent, majority as mostCommon, normalizeAnswer } from "conclave";
import type { Sample, SuiteVariant, TaskContext, TaskResult } from "conclave";

/**
 * Strategies for comparing multi-agent patterns at an equal number of model calls N, as
 * function tasks for `defineSuite({ variants })`. More calls alone buy accuracy: Huang et al.
 * (2023) found self-consistency at 9 samples beating debate at 9 responses on GSM8K. So a suite
 * compares patterns at the same N:
 *
 * - `single`: one answer, 1 call. Reported as is: it has no way to use more calls.
 * - `majority`: N independent answers to the same prompt, majority of the normalised answers
 *   (Du et al.'s voting baseline).
 * - `selfConsistency`: N chain-of-thought answers ("think step by step, then give the final
 *   answer"), majority of the final answers (Wang et al. 2022). It relies on sampling: the calls
 *   use the model's configured temperature (`model.temperature`, `CONCLAVE_TEMPERATURE`). At
 *   temperature 0 every sample is the same answer, so it degenerates to majority (and both to
 *   single); compare them with a temperature above 0.
 * - `debate`: `createDebateGraph` with A solvers × R rounds, A × R = N calls at most (fewer when the
 *   panel agrees early), counted by the debate graph's own accounting.
 *
 * Every call goes through `context.run`, so the report's usage counts each one. Every strategy
 * gives the same system prompt (`AnswerFormat.instructions`; self-consistency its
 * chain-of-thought form) and answers with the normalised answer as `text`, so scorers read every
 * variant's answer the same way.
 */

/** How answers are asked for and compared. */
export interface AnswerFormat {
  /** Every solver's system prompt: how to answer, and how to state the final answer so `normalize` can read it. */
  instructions: string;
  /** Self-consistency's system prompt: the same, asking for the reasoning step by step first. */
  chainOfThought: string;
  /** An answer's comparable form; equal forms are one vote, and the winning form is the task's answer text. "" does not vote. */
  normalize: (text: string) => string;
}

/** Math word problems: the answer is a number (see `normalizeNumber`). */
export const numberAnswer: AnswerFormat = {
  instructions: 'Solve the math problem. Explain your reasoning, then end your response with a last line "Answer: N", where N is a single number without units.',
  chainOfThought: 'Solve the math problem. Think step by step, writing out each step of your reasoning, then give the final answer on a last line "Answer: N", where N is a single number without units.',
  normalize: normalizeNumber,
};

/** Yes/no questions (StrategyQA): the answer is "yes" or "no" (see `normalizeYesNo`). */
export const yesNoAnswer: AnswerFormat = {
  instructions: 'Answer the yes/no question. Explain your reasoning, then end your response with a last line "Answer: yes" or "Answer: no".',
  chainOfThought: 'Answer the yes/no question. Think step by step, writing out each step of your reasoning, then give the final answer on a last line "Answer: yes" or "Answer: no".',
  normalize: normalizeYesNo,
};

/**
 * The answer's number by the patterns module's `normalizeAnswer` (the number after "Answer:" or
 * "####", else the last one; "1,200" → "1200"), or "" when the answer states no number, so that
 * "I cannot tell" does not outvote numbers.
 */
export function normalizeNumber(text: string): string {
  const normalized = normalizeAnswer(text);
  return /^-?\d/.test(normalized) ? normalized : "";
}

const YES_NO: Record<string, string> = { yes: "yes", true: "yes", no: "no", false: "no" };

/**
 * "yes" or "no": the last "Answer: yes/no" (or "the answer is no"), else a reply that opens with
 * yes or no; "" when neither (it then does not vote). `normalizeAnswer` does not fit yes/no
 * answers: it prefers the last number, and reasoning about facts is full of numbers.
 */
export function normalizeYesNo(text: string): string {
  const marked = [...text.matchAll(/\banswer\b[*_]*(?:\s+(?:is|would be))?\s*[:：]?\s*[*_"'`([]*\s*(yes|no|true|false)\b/gi)].at(-1)?.[1];
  const opening = /^[\W_]*(yes|no)\b/i.exec(text)?.[1];
  return YES_NO[(marked ?? opening ?? "").toLowerCase()] ?? "";
}

/** A strategy's output: the chosen answer and how it was reached. */
export interface StrategyOutput {
  strategy: "single" | "majority" | "self-consistency" | "debate";
  /** The chosen answer, normalised ("" when no answer could be read). */
  answer: string;
  /** Normalised answer → how many of the (final) answers gave it. */
  votes: Record<string, number>;
  /** The full texts of the answers voted on (the debate's last round). */
  answers: string[];
  /** Model calls the strategy made, by its own accounting (the report's usage counts them independently). */
  modelCalls: number;
  /** Debate only: rounds run and why the debate stopped. */
  rounds?: number;
  termination?: string;
}

/** A function task over samples whose input is the question text. */
export type StrategyTask = (sample: Sample<string>, context: TaskContext) => Promise<TaskResult & { output: StrategyOutput }>;

/** One answer to the question: 1 model call. */
export function single(format: AnswerFormat): StrategyTask {
  return independent("single", format.instructions, 1, format.normalize);
}

/** `calls` independent answers to the same prompt; the most common normalised answer wins (ties: the first seen). */
export function majority(format: AnswerFormat, options: { calls: number }): StrategyTask {
  return independent("majority", format.instructions, checkedCalls(options.calls), format.normalize);
}

/** `samples` chain-of-thought answers; the most common final answer wins. Needs a temperature above 0 to differ from `majority`. */
export function selfConsistency(format: AnswerFormat, options: { samples: number }): StrategyTask {
  return independent("self-consistency", format.chainOfThought, checkedCalls(options.samples), format.normalize);
}

/** A panel of `agents` solvers debating for at most `rounds` rounds (agents × rounds calls at most), then a majority vote. */
export function debate(format: AnswerFormat, options: { agents: number; rounds: number }): StrategyTask {
  const solvers = Array.from({ length: options.agents }, (_, index) => defineAgent({ name: `solver-${index + 1}`, instructions: format.instructions, tools: [], maxSteps: 1 }));
  const graph = createDebateGraph({ solvers, maxRounds: options.rounds, aggregate: "majority", normalize: format.normalize });
  return async (sample, context) => {
    const { state } = await context.run(graph, { question: sample.input }, { graphName: "debate" });
    const final = state.answers.filter((answer) => answer.round === state.round && !answer.error);
    const answer = state.final?.normalized ?? "";
    const modelCalls = state.answers.reduce((sum, entry) => sum + entry.modelCalls, 0) + (state.final?.judgeCalls ?? 0);
    return {
      text: answer,
      output: { strategy: "debate", answer, votes: tally(final.map((entry) => entry.normalized)), answers: final.map((entry) => entry.text), modelCalls, rounds: state.rounds.length, ...(state.terminationReason ? { termination: state.terminationReason } : {}) },
    };
  };
}

/**
 * The four strategies as suite variants at `calls` model calls each (single: 1): majority and
 * self-consistency make exactly `calls`, debate runs `agents` solvers × `calls / agents` rounds.
 */
export function equalComputeVariants(format: AnswerFormat, options: { calls: number; agents: number }): Record<string, SuiteVariant<string>> {
  const { calls, agents } = options;
  if (!Number.isInteger(agents) || agents < 2 || calls % agents !== 0) throw new DefinitionError(`Equal compute needs the debate's calls to split into whole rounds: ${calls} calls cannot be ${agents} solvers × whole rounds. Use a number of calls divisible by the number of solvers (at least 2).`);
  const rounds = calls / agents;
  return {
    single: { task: single(format), description: "one answer (1 model call; it cannot use more)" },
    majority: { task: majority(format, { calls }), description: `${calls} independent answers, majority vote (${calls} model calls)` },
    "self-consistency": { task: selfConsistency(format, { samples: calls }), description: `${calls} step-by-step answers, majority of the final answers (${calls} model calls)` },
    debate: { task: debate(format, { agents, rounds }), description: `${agents} solvers × ${rounds} rounds, majority vote (at most ${calls} model calls; fewer when the panel agrees early)` },
  };
}

function independent(strategy: "single" | "majority" | "self-consistency", instructions: string, calls: number, normalize: (text: string) => string): StrategyTask {
  const graph = createAgentGraph(defineAgent({ name: strategy, instructions, tools: [], maxSteps: 1 }));
  return async (sample, context) => {
    const answers = await Promise.all(
      Array.from({ length: calls }, async () => {
        const { state } = await context.run(graph, { messages: [new HumanMessage(sample.input)] }, { graphName: strategy });
        return answerFromMessages(state.messages).answer;
      }),
    );
    const normalized = answers.map(normalize);
    const answer = mostCommon(normalized.filter((value) => value !== "")).value ?? "";
    return { text: answer, output: { strategy, answer, votes: tally(normalized), answers, modelCalls: calls } };
  };
}

function tally(values: readonly string[]): Record<string, number> {
  const votes: Record<string, number> = {};
  for (const value of values) if (value !== "") votes[value] = (votes[value] ?? 0) + 1;
  return votes;
}

function checkedCalls(calls: number): number {
  if (!Number.isInteger(calls) || calls < 1) throw new DefinitionError(`A voting strategy needs a whole number of model calls, at least 1; got ${calls}.`);
  return calls;
}
