import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import { DefinitionError, MaxStepsExceededError, OutputValidationError } from "../errors.ts";
import type { GraphInput, GraphState, RunnableGraph } from "../runtime/run.ts";
import { reportEvent } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";
import { setStepBudget, stepBudgetOf } from "../runtime/step-budget.ts";

/** A classifier's verdict: the label, and optionally how sure it is and why. */
export interface RouteClassification {
  label: string;
  confidence?: number;
  reason?: string;
}

/** A rule classifier: any function of the input (keywords, a regex, a lookup). Return a label, or a classification. */
export type RuleClassifier = (input: string, context: { config: LangGraphRunnableConfig }) => string | RouteClassification | Promise<string | RouteClassification>;

/** A model classifier: the model picks one of `labels` (a structured answer with a confidence and a reason). */
export interface ModelClassifier {
  /** Each label the model may choose, with what it means. Every label must be a declared route. */
  labels: Record<string, string>;
  /** Extra instructions (the labels and the answer format are always explained). */
  instructions?: string;
  /** Default: the run's model. */
  model?: BaseChatModel;
}

/** A route given as a graph: how the input becomes the graph's input, and its final state the route's output. */
export interface GraphRoute<G extends RunnableGraph = RunnableGraph> {
  graph: G;
  input: (input: string) => GraphInput<G>;
  output: (state: GraphState<G>) => unknown;
}

/** A route: a function of the input (its result is the output), or a subgraph. */
export type RouteHandler = ((input: string, context: { label: string; config: LangGraphRunnableConfig }) => unknown) | GraphRoute;

/** Builds a `GraphRoute` with its types checked against the graph. */
export function graphRoute<G extends RunnableGraph>(route: GraphRoute<G>): GraphRoute {
  return route as unknown as GraphRoute;
}

export interface RoutingOptions<R extends Record<string, RouteHandler>> {
  classify: RuleClassifier | ModelClassifier;
  /** Every route, declared up front: a label the classifier may give → what handles it. */
  routes: R;
  /** Where an unknown label, a confidence below `minConfidence` or a failed classification goes. */
  defaultRoute: keyof R & string;
  /** Below this confidence the default route is taken (default 0: any confidence will do). */
  minConfidence?: number;
  /** The compiled graph's name and the `decision` events' `by` (default "router"). */
  name?: string;
}

/** What was decided: the classifier's label, the route taken, and why (`fallback` when the default route stood in). */
export const RoutingDecisionSchema = z.object({
  label: z.string(),
  route: z.string(),
  confidence: z.number().optional(),
  reason: z.string(),
  fallback: z.boolean(),
});
export type RoutingDecision = z.infer<typeof RoutingDecisionSchema>;

/** The state of a routing graph: the input, the decision and the route's output. */
export const RoutingState = new StateSchema({ input: z.string(), decision: RoutingDecisionSchema.optional(), output: z.unknown().optional() });
type State = typeof RoutingState.State;

/** What the model classifier answers. The label is free text so that a label outside the routes goes to the default route rather than failing the run. */
const ClassificationSchema = z.object({
  label: z.string().describe("Exactly one of the labels listed in the instructions."),
  confidence: z.number().min(0).max(1).describe("How sure you are of the label, from 0 (a guess) to 1 (certain)."),
  reason: z.string().describe("One sentence: why this label."),
});

const NODE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
// The classifier's node, LangGraph's own, and the state's keys (LangGraph forbids a node named like one).
const RESERVED = new Set(["classify", "__start__", "__end__", "input", "decision", "output"]);
const isGraphRoute = (handler: unknown): handler is GraphRoute => typeof handler === "object" && handler !== null && typeof (handler as GraphRoute).graph?.invoke === "function";
const OptionsSchema = z.object({
  classify: z.union([z.custom<RuleClassifier>((value) => typeof value === "function"), z.object({ labels: z.record(z.string(), z.string()), instructions: z.string().optional(), model: z.unknown().optional() })], { error: "classify must be a function (input) => label, or { labels: { label: description }, instructions?, model? }" }),
  routes: z.record(z.string(), z.custom<RouteHandler>((value) => typeof value === "function" || (isGraphRoute(value) && typeof value.input === "function" && typeof value.output === "function"), "a route is a function (input, context) => output, or { graph, input, output }")),
  defaultRoute: z.string(),
  minConfidence: z.number().min(0).max(1).optional(),
  name: z.string().min(1).optional(),
});

/**
 * Conditional routing: a classifier labels the input — a rule function, or a model choosing among
 * described labels (structured output) — and the input goes to that label's route, a function or
 * a subgraph. Every route is declared up front: a default route, model labels and route names are
 * checked when the graph is built. An unknown label, a confidence under `minConfidence` or a
 * classifier that fails takes the default route. Each decision is a `decision` event with the
 * label, the confidence and the reason, and is kept in `state.decision`.
 *
 * Not to be confused with `routeModel` (src/patterns/router.ts), which picks which MODEL answers a
 * task from its surface features; this routes the input to a different HANDLER by its meaning.
 *
 * Reuses: conditional edges, subgraphs invoked with the node's config (their checkpoints nest),
 * an agent with an `outputSchema` for the model classifier (`withStructuredOutput`,
 * validation and retry, observed model calls), `observeNode` and `reportEvent`.
 *
 * @example
 * const graph = createRoutingGraph({
 *   classify: { labels: { billing: "payments, invoices, refunds", tech: "bugs, errors, outages" } },
 *   routes: { billing: (text) => `billing queue: ${text}`, tech: (text) => `tech queue: ${text}`, general: (text) => `general queue: ${text}` },
 *   defaultRoute: "general",
 * });
 * const { state } = await run(graph, { input: "I was charged twice" }); // state.decision: { label: "billing", … }
 */
export function createRoutingGraph<R extends Record<string, RouteHandler>>(options: RoutingOptions<R>) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid routing graph: ${z.prettifyError(parsed.error)}. Pass { classify, routes: { label: handler }, defaultRoute }.`);
  const { classify, routes, defaultRoute, minConfidence = 0, name = "router" } = options;
  const names = Object.keys(routes);
  const declared = `Declared routes: ${names.join(", ") || "none"}.`;
  if (names.length === 0) throw new DefinitionError("A routing graph needs at least one route (the default route at least). Pass { routes: { label: handler } }.");
  for (const route of names) {
    if (!NODE_NAME.test(route) || RESERVED.has(route)) throw new DefinitionError(`Route name "${route}" is not allowed: use 1-64 letters, digits, "_" or "-", and none of ${[...RESERVED].join(", ")}.`);
  }
  if (!(defaultRoute in routes)) throw new DefinitionError(`defaultRoute "${defaultRoute}" is not a declared route. ${declared}`);
  const classifier: RuleClassifier & { stepBudget?: number } = typeof classify === "function" ? classify : modelClassifier(classify, names, declared);
  // Models vary case and spacing ("Billing "); a label still names its route.
  const routeOf = (label: string) => (Object.hasOwn(routes, label) ? label : names.find((route) => route.toLowerCase() === label.trim().toLowerCase()));

  const classifyNode = async (state: State, config: LangGraphRunnableConfig) => {
    let verdict: RouteClassification;
    try {
      const raw = await classifier(state.input, { config });
      verdict = typeof raw === "string" ? { label: raw } : raw;
    } catch (error) {
      // A classifier that cannot answer is what the default route is for.
      if (!(error instanceof OutputValidationError) && !(error instanceof MaxStepsExceededError)) throw error;
      verdict = { label: "", reason: `the classifier gave no valid answer (${error.message.slice(0, 120)})` };
    }
    const decision = decide(verdict);
    reportEvent(config, { type: "decision", by: name, next: decision.route, reason: decision.reason });
    return { decision };
  };

  const decide = ({ label, confidence, reason }: RouteClassification): RoutingDecision => {
    const said = `classified as "${label}"${confidence === undefined ? "" : ` (confidence ${confidence.toFixed(2)})`}${reason ? `: ${reason}` : ""}`;
    const known = label === "" ? undefined : routeOf(label);
    const unsure = confidence !== undefined && confidence < minConfidence;
    const base = { label, ...(confidence === undefined ? {} : { confidence }) };
    if (known && !unsure) return { ...base, route: known, reason: said, fallback: false };
    const why = label === "" ? reason ?? "no label" : !known ? `${said}; "${label}" is not a declared route` : `${said}; below the minimum confidence ${minConfidence.toFixed(2)}`;
    return { ...base, route: defaultRoute, reason: `${why} → default route "${defaultRoute}"`, fallback: true };
  };

  const routeNode = (route: string) => async (state: State, config: LangGraphRunnableConfig) => {
    const handler = routes[route]!;
    if (!isGraphRoute(handler)) return { output: await handler(state.input, { label: state.decision?.label ?? route, config }) };
    const result = await handler.graph.invoke(handler.input(state.input) as never, config as never);
    return { output: handler.output(result as never) };
  };

  const builder = new StateGraph(RoutingState) as unknown as StateGraph<typeof RoutingState, State, Partial<State>, string>;
  builder.addNode("classify", observeNode("classify", classifyNode));
  for (const route of names) builder.addNode(route, observeNode(route, routeNode(route)));
  builder.addEdge(START, "classify");
  builder.addConditionalEdges("classify", (state: State) => state.decision?.route ?? defaultRoute, names);
  for (const route of names) builder.addEdge(route, END);
  const graph = builder.compile({ name });
  // Subgraphs and the classifier agent run inside nodes: LangGraph limits each level separately.
  const inner = [...names.map((route) => routes[route]!).filter(isGraphRoute).map((route) => stepBudgetOf(route.graph as object) ?? 0), classifier.stepBudget ?? 0];
  return setStepBudget(graph, Math.max(4, ...inner));
}

/** A classifier backed by an agent with a structured answer (LangChain's `withStructuredOutput`, checked by zod). */
function modelClassifier(options: ModelClassifier, routes: string[], declared: string): RuleClassifier & { stepBudget?: number } {
  const labels = Object.keys(options.labels);
  if (labels.length === 0) throw new DefinitionError("A model classifier needs labels to choose from: { labels: { label: description } }.");
  const unknown = labels.filter((label) => !routes.includes(label));
  if (unknown.length) throw new DefinitionError(`The classifier's labels ${unknown.map((label) => `"${label}"`).join(", ")} are not declared routes; every label must name a route. ${declared}`);
  const instructions = [
    "Classify the user's message into exactly one of these labels:",
    ...labels.map((label) => `- ${label}: ${options.labels[label]}`),
    'If none fits, answer the label "other".',
    "Give your confidence from 0 to 1 and a one-sentence reason.",
    ...(options.instructions ? ["", options.instructions] : []),
  ].join("\n");
  const agent = createAgentGraph(defineAgent({ name: "classifier", instructions, tools: [], outputSchema: ClassificationSchema, maxSteps: 1, ...(options.model ? { model: options.model } : {}) }));
  const classify = async (input: string, { config }: { config: LangGraphRunnableConfig }) => {
    const result = await agent.invoke({ messages: [new HumanMessage(input)] }, config);
    return result.structuredResponse!;
  };
  return Object.assign(classify, { stepBudget: stepBudgetOf(agent) ?? 0 });
}
