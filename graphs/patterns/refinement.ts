import { readFileSync } from "node:fs";
import { compileGraph, contentTerms, createRefinementGraph, defineAgent, defineGraph, extractCitations, splitSentences } from "conclave";

/**
 * A rubric read from the task itself, so the evaluator needs no model and the loop is reproducible:
 * the terms after "Must mention:" (else the content words of the request's first line), the word
 * limit after "At most N words" (default 80), and sentences of at most 20 words.
 */
export function rubricOf(task: string) {
  const listed = /must mention:\s*([^.\n]+)/i.exec(task)?.[1];
  const terms = [...new Set(contentTerms(listed ?? task.split("\n")[0] ?? ""))];
  return { terms, maxWords: Number(/at most (\d+) words/i.exec(task)?.[1] ?? 80), maxSentenceWords: 20 };
}

type Rubric = ReturnType<typeof rubricOf>;

const wordsOf = (text: string) => text.replace(/\[[^\]]*\]/g, " ").match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];

/** How well a text meets the rubric, from 0 to 1: half coverage of the request's terms, a quarter length, a quarter sentence length. */
export function scoreText(text: string, rubric: Rubric) {
  const words = wordsOf(text);
  const present = new Set(contentTerms(words.join(" ")));
  const missing = rubric.terms.filter((term) => !present.has(term));
  const coverage = rubric.terms.length ? 1 - missing.length / rubric.terms.length : 1;
  const concision = words.length <= rubric.maxWords ? 1 : rubric.maxWords / words.length;
  const sentences = splitSentences(text.replace(/\[[^\]]*\]/g, " ")).filter((sentence) => sentence.trim());
  const longest = Math.max(0, ...sentences.map((sentence) => wordsOf(sentence).length));
  const readability = longest <= rubric.maxSentenceWords ? 1 : rubric.maxSentenceWords / longest;
  const score = Math.round((0.5 * coverage + 0.25 * concision + 0.25 * readability) * 1000) / 1000;
  return { score, missing, words: words.length, longest };
}

/** The critic: a checklist from the same rubric (as a linter or a test suite would give), so every point is actionable. */
export function critiqueText(text: string, rubric: Rubric): string {
  const { missing, words, longest } = scoreText(text, rubric);
  const problems = [
    ...(missing.length ? [`It does not yet address: ${missing.join(", ")}.`] : []),
    ...(words > rubric.maxWords ? [`It has ${words} words; cut it to at most ${rubric.maxWords}.`] : []),
    ...(longest > rubric.maxSentenceWords ? [`Its longest sentence has ${longest} words; keep sentences under ${rubric.maxSentenceWords}.`] : []),
  ];
  return problems.length ? problems.join(" ") : "No problems found against the rubric.";
}

const writer = defineAgent({
  name: "writer",
  instructions: "You write short, clear explanations for new users from the notes you are given, citing each note you use by its [id]. When given a draft and a critique, rewrite the draft to fix every problem named.",
  tools: [],
  maxSteps: 1,
});

/** Iterative refinement of a short paragraph: a writer drafts, a rubric critic comments, the writer revises, a pure scorer decides. */
export const example = defineGraph({
  name: "refinement",
  description: "Iterative refinement: draft → critique → refine → evaluate until the score stops improving (rubric scorer, no model needed to judge)",
  sample: readFileSync(new URL("./samples/quality-refinement.md", import.meta.url), "utf8").trim(),
  build: (context) =>
    createRefinementGraph({
      draft: writer,
      critique: ({ task, draft }) => critiqueText(draft, rubricOf(task)),
      refine: writer,
      evaluate: (draft, { task }) => scoreText(draft, rubricOf(task)).score,
      maxIterations: context.options?.maxRounds ?? 4,
      minImprovement: 0.02,
      // A perfect rubric score leaves the critic nothing to say.
      targetScore: 1,
    }),
  input: (task) => ({ task }),
  output: (state) => ({
    answer: state.final?.text ?? "",
    citations: extractCitations(state.final?.text ?? ""),
    details: {
      score: state.final?.score ?? null,
      bestRound: state.final?.round ?? null,
      scores: state.drafts.map((draft) => draft.score),
      stopReason: state.stopReason ?? null,
    },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
