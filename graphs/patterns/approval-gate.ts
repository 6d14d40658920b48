import { readFileSync } from "node:fs";
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { z } from "zod";
import { approvalGate, compileGraph, createAgentGraph, defineAgent, defineGraph, extractCitations, observeNode } from "conclave";

const POLICY = readFileSync(new URL("./samples/governance-refund-policy.md", import.meta.url), "utf8").trim();

/** A customer's message, the drafted reply, and what the reviewer decided. */
export const SupportReplyState = new StateSchema({
  message: z.string(),
  draft: z.string().optional(),
  final: z.string().optional(),
  status: z.enum(["approved", "edited", "rejected", "sent without review"]).optional(),
  /** The reviewer's name, or why the reply was rejected. */
  note: z.string().optional(),
});
type State = typeof SupportReplyState.State;

const writer = createAgentGraph(
  defineAgent({
    name: "support-writer",
    instructions: "You answer customers from the refund policy only. Quote the policy sentences that apply, each with its [id]; never promise more than the policy says.",
    tools: [],
    maxSteps: 1,
  }),
);

/**
 * write → sign-off → send. The gate sits between the model's draft and the customer: with
 * `signOff` a person approves, edits (replaces the text) or rejects the reply before it goes.
 */
export function createSupportReply(options: { signOff?: boolean } = {}) {
  const draft = async (state: State, config: LangGraphRunnableConfig) => {
    // The message first, then the policy as cited passages, so the reply can point back to them.
    const result = await writer.invoke({ messages: [new HumanMessage(`${state.message}\n\nRefund policy:\n${POLICY}`)] }, config);
    return { draft: result.messages.at(-1)?.text.trim() ?? "" };
  };
  const signOff = approvalGate({
    name: "sign-off",
    summarize: (state: State) => `send this reply to the customer: ${state.draft ?? ""}`.slice(0, 300),
    proposal: (state: State) => state.draft,
    editSchema: z.string().trim().min(1, "an edited reply must not be empty"),
    when: () => options.signOff === true,
    onApprove: (state: State, { actor }) => ({ final: state.draft, status: "approved" as const, note: actor }),
    onEdit: (_state: State, { edit, actor }) => ({ final: String(edit), status: "edited" as const, note: actor }),
    onReject: (_state: State, { reason }) => ({ status: "rejected" as const, note: reason }),
  });
  const send = (state: State) => (state.status ? {} : { final: state.draft, status: "sent without review" as const });
  return new StateGraph(SupportReplyState)
    .addNode("write", observeNode("write", draft))
    .addNode("sign-off", signOff)
    .addNode("send", observeNode("send", send))
    .addEdge(START, "write")
    .addEdge("write", "sign-off")
    .addEdge("sign-off", "send")
    .addEdge("send", END)
    .compile({ name: "approval-gate" });
}

/** `conclave run --graph approval-gate --approve-answer` drafts a refund reply and waits for a person to sign it off. */
export const example = defineGraph({
  name: "approval-gate",
  description: "Human-in-the-loop gate: a support reply drafted from the refund policy waits for sign-off (with --approve-answer); approve sends it, edit replaces it, reject stops it",
  sample: "Hello, I was charged twice for order 1042 last week. Can I get my money back for the duplicate charge?",
  build: (context) => createSupportReply({ signOff: context.options?.approveAnswer === true }),
  input: (task) => ({ message: task }),
  output: (state) => {
    const answer = state.status === "rejected" ? `Not sent: the reviewer rejected the reply (${state.note ?? "no reason given"}).` : (state.final ?? "");
    return { answer, citations: extractCitations(state.final ?? ""), details: { status: state.status ?? null, reviewer: state.status === "rejected" ? null : (state.note ?? null), draft: state.draft ?? null } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
