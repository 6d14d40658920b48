import { compileGraph, createRoutingGraph, createSequentialGraph, defineGraph, graphRoute } from "conclave";
import type { RouteClassification } from "conclave";

/** Words that mark a support message as one queue's; a message goes where most of its words point. */
const KEYWORDS: Record<"billing" | "tech", RegExp> = {
  billing: /\b(?:invoices?|bill(?:ed|ing)?|charged?|charges|refunds?|payments?|paid|pay|subscriptions?|prices?|receipts?|vat)\b/gi,
  tech: /\b(?:errors?|crash(?:es|ed)?|bugs?|log ?in|passwords?|app|install(?:ed)?|slow|broken|freez(?:es|e)|update)\b/gi,
};

/** A rule classifier: keyword counts per queue; the confidence is the winner's share of the matches. */
export function classifySupport(message: string): RouteClassification {
  const hits = Object.entries(KEYWORDS).map(([label, pattern]) => ({ label, words: [...new Set((message.match(pattern) ?? []).map((word) => word.toLowerCase()))] }));
  const total = hits.reduce((sum, hit) => sum + hit.words.length, 0);
  const best = [...hits].sort((a, b) => b.words.length - a.words.length)[0]!;
  if (total === 0) return { label: "unknown", confidence: 0, reason: "no billing or technical keywords" };
  return { label: best.label, confidence: best.words.length / total, reason: `matched ${best.words.map((word) => `"${word}"`).join(", ")}` };
}

/** What a route produces: the queue the message lands in and the first reply. */
export interface SupportTicket {
  queue: string;
  reply: string;
  facts: Record<string, string>;
}

/** The technical route is a pipeline of its own (a subgraph): collect diagnostics, then open the ticket. */
const techPipeline = createSequentialGraph<string>({
  name: "tech-support",
  stages: [
    {
      name: "diagnose",
      run: ({ input }) => {
        const facts: Record<string, string> = {};
        const code = /\b(?:error|code)\s*:?\s*([A-Z]{1,4}-?\d{2,5})\b/i.exec(input)?.[1];
        const version = /\bv(?:ersion)?\.?\s*(\d+(?:\.\d+){1,3})\b/i.exec(input)?.[1];
        const platform = /\b(android|ios|iphone|ipad|windows|macos|linux|web)\b(?:\s*(\d+(?:\.\d+)*))?/i.exec(input);
        if (code) facts.errorCode = code;
        if (version) facts.appVersion = version;
        if (platform) facts.platform = platform[2] ? `${platform[1]} ${platform[2]}` : platform[1]!;
        return facts;
      },
    },
    {
      name: "open-ticket",
      run: ({ value }): SupportTicket => {
        const facts = value as Record<string, string>;
        const known = Object.entries(facts).map(([key, fact]) => `${key} ${fact}`).join(", ");
        const missing = ["errorCode", "appVersion", "platform"].filter((key) => !(key in facts));
        return { queue: "tech", facts, reply: `Thanks — a technical ticket is open${known ? ` with ${known}` : ""}.${missing.length ? ` To speed things up, please tell us your ${missing.join(", ")}.` : " An engineer will follow up."}` };
      },
    },
  ],
});

/** Support triage: billing, technical, or general support by default. */
export function createSupportRouter() {
  return createRoutingGraph({
    name: "conditional-routing",
    classify: classifySupport,
    routes: {
      billing: (message): SupportTicket => {
        const amount = /(?:€|\$|£)\s?\d+(?:[.,]\d{2})?|\d+(?:[.,]\d{2})?\s?(?:eur|euros?|usd|dollars?)/i.exec(message)?.[0];
        return { queue: "billing", facts: amount ? { amount } : {}, reply: `Thanks — billing will review your account${amount ? ` and the ${amount} in question` : ""} within two working days.` };
      },
      tech: graphRoute({ graph: techPipeline, input: (message) => ({ input: message }), output: (state) => state.value as SupportTicket }),
      general: (): SupportTicket => ({ queue: "general", facts: {}, reply: "Thanks — your message is with our general support team, who will reply within a working day." }),
    },
    defaultRoute: "general",
    // A message that is barely more billing than technical goes to a person in general support.
    minConfidence: 0.6,
  });
}

/** `conclave run --graph conditional-routing "MESSAGE"`: a support message routed to billing, tech or general support. */
export const example = defineGraph({
  name: "conditional-routing",
  description: "Conditional routing: a support message classified by rules and routed to billing, tech (a subgraph) or, by default, general support; each decision says why",
  sample: "Hi, the app crashes with error E-4012 every time I open my invoices on Android 14 (version 3.2.1).",
  build: () => createSupportRouter(),
  input: (task) => ({ input: task }),
  output: (state) => {
    const ticket = state.output as SupportTicket | undefined;
    return {
      answer: ticket ? `[${ticket.queue}] ${ticket.reply}` : "",
      citations: [],
      details: { decision: state.decision ?? null, facts: ticket?.facts ?? {} },
    };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
