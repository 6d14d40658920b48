import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HumanMessage } from "@langchain/core/messages";
import { DeadLetterQueue, compileGraph, createAgentGraph, createBatchGraph, defineAgent, defineGraph } from "conclave";
import type { BatchItemContext, GraphBuildContext } from "conclave";

const HERE = dirname(fileURLToPath(import.meta.url));

/** A support ticket as exported by the help desk. */
export interface Ticket {
  id: string;
  product: string;
  subject: string;
  body: string;
}

/** What triage adds: who handles it, how urgent, and the gist. */
export interface Triaged {
  id: string;
  team: string;
  priority: "high" | "medium" | "low";
  summary: string;
}

/** Totals over the batch. */
export interface TriageTotals {
  byPriority: Record<Triaged["priority"], string[]>;
  byTeam: Record<string, number>;
}

const TEAMS: Record<string, string> = { billing: "finance", app: "mobile", shipping: "logistics", security: "trust-and-safety" };
const HIGH = /compromised|charged twice|crash|broken|never arrives/i;
const MEDIUM = /refund|missing|in transit|days|moved/i;

/** Tickets from a JSON file: a path against the working folder, then this example's folder. */
function readTickets(source: string | undefined, cwd: string): Ticket[] {
  if (!source) throw new Error("no source given: pass the path of a JSON array of tickets");
  const path = [resolve(cwd, source), resolve(HERE, source)].find((candidate) => existsSync(candidate));
  if (!path) throw new Error(`no file ${source} (looked in ${cwd} and ${HERE})`);
  return JSON.parse(readFileSync(path, "utf8")) as Ticket[];
}

// An agent, so each call takes the run's full model path: fallback models, cache, record/replay, breakers, budget.
const summariser = createAgentGraph(defineAgent({ name: "ticket-summariser", instructions: "Say in one sentence what the customer needs.", tools: [], maxSteps: 1 }));

/** Routing and priority are rules; the gist comes from one call of the summariser agent, with the node's config. */
async function triage(ticket: Ticket, context: BatchItemContext): Promise<Triaged> {
  if (!ticket.body.trim()) throw new Error(`ticket ${ticket.id} has no body to triage`);
  const team = TEAMS[ticket.product];
  if (!team) throw new Error(`no team handles product "${ticket.product}" (known: ${Object.keys(TEAMS).join(", ")})`);
  const { messages } = await summariser.invoke({ messages: [new HumanMessage(`What does this customer need? Answer in one sentence.\n[${ticket.id}] ${ticket.subject}. ${ticket.body}`)] }, context.config);
  const text = messages.at(-1)?.text ?? "";
  const summary = (text.replace(/\s*\[[^\]]+\]/g, "").match(/[^.!?]+[.!?]/)?.[0] ?? text).trim();
  return { id: ticket.id, team, priority: HIGH.test(ticket.body) ? "high" : MEDIUM.test(ticket.body) ? "medium" : "low", summary };
}

/** Help-desk tickets, triaged in chunks of 3 with 2 chunks in flight; failures go to the dead-letter queue. */
export function createTicketTriage(context: GraphBuildContext) {
  // Opened on the first failure, so building the graph never creates files.
  let queue: DeadLetterQueue | undefined;
  const deadLetters = { add: (letter: Parameters<DeadLetterQueue["add"]>[0]) => (queue ??= new DeadLetterQueue({ path: resolve(context.cwd, context.config.stateDir, "dlq.sqlite") })).add(letter) };
  return createBatchGraph<Ticket, Triaged, TriageTotals>({
    name: "ticket-triage",
    chunkSize: 3,
    concurrency: 2,
    gather: (source) => readTickets(source, context.cwd),
    process: triage,
    aggregate: (triaged) => ({
      byPriority: { high: triaged.filter((t) => t.priority === "high").map((t) => t.id), medium: triaged.filter((t) => t.priority === "medium").map((t) => t.id), low: triaged.filter((t) => t.priority === "low").map((t) => t.id) },
      byTeam: triaged.reduce<Record<string, number>>((teams, t) => ({ ...teams, [t.team]: (teams[t.team] ?? 0) + 1 }), {}),
    }),
    deadLetters,
  });
}

/** Batch triage for `conclave run --graph batch [tickets.json]`. */
export const example = defineGraph({
  name: "batch",
  description: "Batch: triage a help-desk export in chunks under a concurrency limit, with progress, a report (counts, failures, duration, throughput) and failed tickets in the dead-letter queue",
  sample: "samples/dataflow-tickets.json",
  build: (context) => createTicketTriage(context),
  input: (task) => ({ source: task }),
  output: (state) => {
    const report = state.report!;
    const totals = report.aggregate as TriageTotals;
    const lines = [
      `Triaged ${report.succeeded} of ${report.total} tickets in ${report.chunks} chunks (at most ${report.maxInFlight} at once): ${report.failed} failed, ${report.skipped} skipped; ${report.durationMs} ms, ${report.throughputPerSecond} tickets/s.`,
      `High priority: ${totals.byPriority.high.join(", ") || "none"}. Medium: ${totals.byPriority.medium.join(", ") || "none"}. Low: ${totals.byPriority.low.join(", ") || "none"}.`,
      `By team: ${Object.entries(totals.byTeam).map(([team, count]) => `${team} ${count}`).join(", ")}.`,
      ...(report.failures.length ? ["Failed (in the dead-letter queue: conclave dlq list):"] : []),
      ...report.failures.map((failure) => `- ${(failure.item as Ticket).id}: ${failure.error.message}${failure.deadLetterId ? ` (dead letter ${failure.deadLetterId})` : ""}`),
    ];
    const { failures, aggregate, ...counts } = report;
    return { answer: lines.join("\n"), citations: [], details: { ...counts, totals: aggregate, failures: failures.map((failure) => ({ id: (failure.item as Ticket).id, error: failure.error, deadLetterId: failure.deadLetterId })) } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
