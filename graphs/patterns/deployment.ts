import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { MemoryDeploymentStore, compileGraph, createDeployment, defineGraph, observeNode, setStepBudget } from "conclave";
import type { DeploymentEvent, DeploymentState, DeploymentStore } from "conclave";
import { z } from "zod";

/** A shipping-quote request, as both versions of the quote graph take it; `error` is set when the version fails it (a 5xx, to its caller). */
const QuoteState = new StateSchema({ seq: z.number().int(), weightKg: z.number(), price: z.number().optional(), error: z.string().optional() });
type Quote = typeof QuoteState.State;

/**
 * Builds one version of the quote graph. `fails(seq)` is the version's fault model: v1 has a
 * steady 2% of upstream timeouts; v2 has a regression that shows under load, so its error rate
 * climbs as traffic ramps up. No checkpointer of their own (`false`): a quote is one step, not
 * worth a checkpoint per request.
 */
function quoteGraph(version: string, perKg: number, fails: (seq: number) => string | undefined) {
  const quote = (state: Quote) => {
    const fault = fails(state.seq);
    return fault ? { error: `${version}: ${fault}` } : { price: Math.round((4.9 + perKg * state.weightKg) * 100) / 100 };
  };
  return new StateGraph(QuoteState).addNode("quote", observeNode("quote", quote)).addEdge(START, "quote").addEdge("quote", END).compile({ name: `quote-${version}`, checkpointer: false });
}

const v1 = quoteGraph("v1", 1.2, (seq) => (seq % 50 === 7 ? "the rate service timed out" : undefined));
const v2 = quoteGraph("v2", 1.1, (seq) => ((seq * 37) % 100 < Math.min(30, 1 + Math.floor(seq / 25)) ? "connection pool exhausted" : undefined));

const Timeline = z.object({ before: z.record(z.string(), z.number()), after: z.record(z.string(), z.number()), errors: z.record(z.string(), z.number()) });
export const DeploymentExampleState = new StateSchema({
  task: z.string(),
  requests: z.number().int().default(0),
  /** The request at which the canary was rolled back, if it was. */
  rolledBackAt: z.number().int().optional(),
  events: z.array(z.custom<DeploymentEvent>()).default(() => []),
  traffic: Timeline.optional(),
  final: z.custom<DeploymentState>().optional(),
  /** How many distinct customers see the flagged banner. */
  flagged: z.object({ users: z.number(), enabled: z.number() }).optional(),
});
type State = typeof DeploymentExampleState.State;

/** Simulates `N requests` (from the task, default 600) from up to 997 customers against v1, with v2 as a 25% canary. Pass a `SqliteDeploymentStore` to keep the rollout state between runs. */
export function createDeploymentSimulation(options: { store?: DeploymentStore } = {}) {
  const simulate = async (state: State, config: LangGraphRunnableConfig) => {
    const requests = Number(/\d+/.exec(state.task)?.[0] ?? 600);
    const events: DeploymentEvent[] = [];
    let rolledBackAt: number | undefined;
    const deployment = createDeployment({
      name: "shipping-quotes",
      stable: { name: "v1", target: v1 },
      canary: { name: "v2", target: v2 },
      flags: { "free-shipping-banner": { percent: 30 } },
      rollout: { percent: 25 },
      rollback: { metric: "error-rate", margin: 0.05, minSamples: 60 },
      // In memory so every run of the example starts from a fresh rollout; a service would use SqliteDeploymentStore.
      store: options.store ?? new MemoryDeploymentStore(),
      onEvent: (event) => events.push(event),
    });
    const traffic = { before: { v1: 0, v2: 0 }, after: { v1: 0, v2: 0 }, errors: { v1: 0, v2: 0 } } as Record<"before" | "after" | "errors", Record<string, number>>;
    const users = new Set<string>();
    for (let seq = 0; seq < requests; seq++) {
      const user = `customer-${(seq * 7919) % 997}`;
      users.add(user);
      const phase = rolledBackAt === undefined ? "before" : "after";
      // Route (sticky per customer), run that version's graph, record the outcome: the rollback rule sees every request.
      const route = deployment.route(user);
      traffic[phase]![route.name] = (traffic[phase]![route.name] ?? 0) + 1;
      // Cancellation is checked once per request: handing the run's signal to each invoke would leave one
      // abort listener per request on it (LangGraph's stream() never removes them, langgraphjs#1014).
      config.signal?.throwIfAborted();
      const answer = await route.target.invoke({ seq, weightKg: 1 + (seq % 7) }, { ...config, signal: undefined });
      if (answer.error) traffic.errors![route.name] = (traffic.errors![route.name] ?? 0) + 1;
      deployment.record(route.version, answer.error ? "error" : "ok", config);
      if (rolledBackAt === undefined && events.some((event) => event.type === "rolled-back")) rolledBackAt = seq + 1;
    }
    const enabled = [...users].filter((user) => deployment.isEnabled("free-shipping-banner", user)).length;
    return { requests, events, traffic: traffic as z.infer<typeof Timeline>, final: deployment.state(), flagged: { users: users.size, enabled }, ...(rolledBackAt === undefined ? {} : { rolledBackAt }) };
  };
  const graph = new StateGraph(DeploymentExampleState).addNode("simulate", observeNode("simulate", simulate)).addEdge(START, "simulate").addEdge("simulate", END).compile({ name: "deployment" });
  return setStepBudget(graph, 4);
}

/** Canary deployment with automatic rollback, for `conclave run --graph deployment "600 requests"`. */
export const example = defineGraph({
  name: "deployment",
  description: "Canary deployment: 25% of customers (sticky by a stable hash) get v2 of a quote graph; when v2's error rate exceeds v1's by more than 5 points it is rolled back automatically and all traffic returns to v1",
  sample: "Simulate 600 quote requests with v2 as a 25% canary",
  build: () => createDeploymentSimulation(),
  input: (task) => ({ task }),
  output: (state) => {
    const rollback = state.events.find((event) => event.type === "rolled-back");
    const { before, after, errors } = state.traffic!;
    const lines = [
      rollback ? `v2 was rolled back automatically after request ${state.rolledBackAt} of ${state.requests}: ${rollback.reason}.` : `v2 was not rolled back after ${state.requests} requests.`,
      `Before the rollback: v1 served ${before.v1 ?? 0}, v2 served ${before.v2 ?? 0}. After it: v1 served ${after.v1 ?? 0}, v2 served ${after.v2 ?? 0}.`,
      `Errors: v1 ${errors.v1 ?? 0}, v2 ${errors.v2 ?? 0}. Final status: ${state.final!.status}.`,
      `Feature flag free-shipping-banner: on for ${state.flagged!.enabled} of ${state.flagged!.users} customers.`,
    ];
    return { answer: lines.join("\n"), citations: [], details: { rolledBackAt: state.rolledBackAt ?? null, reason: rollback?.reason ?? null, traffic: state.traffic, final: state.final, flagged: state.flagged } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
