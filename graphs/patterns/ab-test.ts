import { readFileSync } from "node:fs";
import { END, ReducedValue, START, Send, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { compileGraph, createAbTest, defineGraph, definePrompt, extractCitations, observeNode } from "conclave";
import type { AbResults, FeedbackStore } from "conclave";

const POLICY = readFileSync(new URL("./samples/governance-refund-policy.md", import.meta.url), "utf8").trim();
/** The same policy without its passage ids: what variant A shows the model. */
const PLAIN_POLICY = POLICY.replace(/^\[[^\]]+\]\s*/gm, "");

const variables = z.object({ question: z.string().min(1), policy: z.string().min(1) });
/** Variant A: the policy as plain text. */
export const plainPrompt = definePrompt({
  name: "refund-faq",
  version: "plain",
  system: "You answer customers' refund questions from the policy below, in one or two sentences.",
  template: "{{question}}\n\nRefund policy:\n{{policy}}",
  variables,
});
/** Variant B: the policy as passages with ids, and an instruction to cite them. */
export const citedPrompt = definePrompt({
  name: "refund-faq",
  version: "cited",
  system: "You answer customers' refund questions from the policy passages below, in one or two sentences, citing each passage you use by its [id].",
  template: "{{question}}\n\nRefund policy:\n{{policy}}",
  variables,
});

/** One question's run: which arm answered, and whether the answer cites the policy. */
const OutcomeSchema = z.object({ question: z.string(), arm: z.string(), answer: z.string(), score: z.number() });
type Outcome = z.infer<typeof OutcomeSchema>;

export const AbExampleState = new StateSchema({
  questions: z.array(z.string()),
  outcomes: new ReducedValue(z.array(OutcomeSchema).default(() => []), { inputSchema: z.array(OutcomeSchema), reducer: (current: Outcome[], next: Outcome[]) => [...current, ...next] }),
  results: z.custom<AbResults>().optional(),
});
type State = typeof AbExampleState.State;

/**
 * Does showing the policy with passage ids make answers cite it? Each question (standing in for a
 * user) is assigned an arm by a stable hash; the outcome is 1 when the answer cites a policy passage.
 */
export function createPromptExperiment(options: { store?: FeedbackStore } = {}) {
  const experiment = createAbTest({
    name: "refund-faq-prompts",
    arms: {
      A: (question) => plainPrompt.format({ question, policy: PLAIN_POLICY }),
      B: (question) => citedPrompt.format({ question, policy: POLICY }),
    },
    split: { A: 0.5, B: 0.5 },
    key: (question) => question,
    outcome: (answer) => (extractCitations(answer).some((citation) => citation.source.startsWith("refund-policy")) ? 1 : 0),
    ...(options.store ? { store: options.store } : {}),
  });
  const ask = async (task: { question: string }, config: LangGraphRunnableConfig) => {
    const final = await experiment.graph.invoke({ input: task.question }, config);
    return { outcomes: [{ question: task.question, arm: final.arm ?? "", answer: final.output ?? "", score: final.score ?? 0 }] };
  };
  const graph = new StateGraph(AbExampleState)
    // Send delivers one question to "ask", not the experiment's state.
    .addNode("ask", observeNode("ask", ask) as unknown as (state: State, config: LangGraphRunnableConfig) => Promise<{ outcomes: Outcome[] }>)
    .addNode("report", observeNode("report", () => ({ results: experiment.results() })))
    .addConditionalEdges(START, (state: State) => state.questions.map((question) => new Send("ask", { question })), ["ask"])
    .addEdge("ask", "report")
    .addEdge("report", END)
    .compile({ name: "ab-test" });
  return { graph, experiment };
}

function describe(results: AbResults | undefined, questions: number): string {
  if (!results) return "";
  const number = (value: number) => value.toFixed(2);
  const arms = results.arms.map((arm) => `  ${arm.arm} (${arm.arm === "A" ? "plain policy" : "cited passages"}): ${arm.count} answers, cite rate ${number(arm.mean)}, 95% CI [${number(arm.ci[0])}, ${number(arm.ci[1])}]`);
  const comparisons = results.comparisons.map((comparison) => `  ${comparison.arm} vs ${comparison.baseline}: ${comparison.difference >= 0 ? "+" : ""}${number(comparison.difference)}, 95% CI [${number(comparison.ci[0])}, ${number(comparison.ci[1])}] → ${comparison.verdict}`);
  return [`A/B test "${results.experiment}" over ${questions} questions (outcome: the answer cites the policy):`, ...arms, ...comparisons].join("\n");
}

function parseQuestions(task: string): string[] {
  const trimmed = task.trim();
  if (!trimmed.startsWith("[")) return [trimmed];
  const parsed = z.array(z.string().min(1)).safeParse(JSON.parse(trimmed));
  return parsed.success ? parsed.data : [trimmed];
}

/** `conclave run --graph ab-test` runs the sample questions through two prompt variants and compares them. */
export const example = defineGraph({
  name: "ab-test",
  description: "A/B test: questions split between two prompt variants by a stable hash of their key; outcomes per arm with a bootstrap comparison",
  sample: readFileSync(new URL("./samples/governance-questions.json", import.meta.url), "utf8"),
  build: () => createPromptExperiment().graph,
  input: (task) => ({ questions: parseQuestions(task) }),
  output: (state) => ({
    answer: describe(state.results, state.questions.length),
    citations: [],
    details: { results: state.results ?? null, outcomes: state.outcomes.map(({ question, arm, score }) => ({ question, arm, score })) },
  }),
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
