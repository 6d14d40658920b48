import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { HumanMessage } from "@langchain/core/messages";
import { END, interrupt, Send, START, StateGraph } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { ApprovalDecisionError, ApprovalDecisionSchema, ConfigError, createAgentGraph, defineAgent, isBudgetExceeded, MaxStepsExceededError, observeNode, OutputValidationError, reportEvent, runContext, setStepBudget, stepBudgetOf } from "conclave";
import type { ApprovalRequest } from "conclave";
import { z } from "zod";
import { DEFAULT_LEXICON, DEFAULT_RULES, matchRules, scoreText } from "./rules.ts";
import type { ModerationRule } from "./rules.ts";
import { ModerationState, undecided } from "./state.ts";
import type { ChatMessage, ModerationDecision, ModerationResult, ModerationStage, ModerationStateType } from "./state.ts";

export interface ModerationOptions {
  /** Pattern rules tried first (default `DEFAULT_RULES`: threats, scams, link shorteners, card numbers). */
  rules?: readonly ModerationRule[];
  /** Term weights for the classifier (default `DEFAULT_LEXICON`). */
  lexicon?: Readonly<Record<string, number>>;
  /** Classifier score at or above which a message is blocked without review. Default 0.8. */
  blockAt?: number;
  /** Classifier score below which a message is allowed without review. Default 0.2. */
  allowBelow?: number;
  /** Model confidence needed to settle a message the classifier was unsure of. Default 0.7. */
  confidentAt?: number;
  /** The reviewing model (default: the run's). */
  model?: BaseChatModel;
  /** "when-asked" (default): pause for a person only when the run asks for approvals (`--approve-answer`), else hold the message; "always": always pause. */
  humanReview?: "when-asked" | "always";
}

const OptionsSchema = z
  .object({ blockAt: z.number().min(0).max(1).default(0.8), allowBelow: z.number().min(0).max(1).default(0.2), confidentAt: z.number().min(0).max(1).default(0.7), humanReview: z.enum(["when-asked", "always"]).default("when-asked") })
  .refine((options) => options.allowBelow <= options.blockAt, "allowBelow must not be above blockAt");

/** What the reviewing model answers about one message. */
export const ModelReviewSchema = z.object({
  verdict: z.enum(["unsure", "allow", "block"]).describe("block if the message is abusive, threatening or spam; allow if it is acceptable; unsure if you cannot tell."),
  confidence: z.number().min(0).max(1).describe("How sure you are of the verdict, from 0 to 1."),
  reason: z.string().describe("Why, in one sentence."),
});

interface ReviewTask {
  message: ChatMessage;
  /** The classifier's score, for the reviewer's context. */
  score: number;
}

const decision = (messageId: string, stage: ModerationStage, outcome: ModerationDecision["outcome"], reason: string, extra: { score?: number; actor?: string } = {}): ModerationDecision => ({ messageId, stage, outcome, reason, ...extra, at: Date.now() });

/** Reports each decision as a `decision` event too, so the run's event log (and traces) carry the audit trail. */
function announce(config: LangGraphRunnableConfig, decisions: ModerationDecision[], next: (entry: ModerationDecision) => string): ModerationDecision[] {
  for (const entry of decisions) reportEvent(config, { type: "decision", by: entry.stage, next: next(entry), reason: `${entry.messageId}: ${entry.reason}` });
  return decisions;
}

/**
 * rules → classifier → model review (uncertain messages, in parallel) → escalate → human review
 * (what is still uncertain: an approval per message, each its own interrupt) → report. Every stage appends its
 * decision for every message it looks at, with the reason, to `decisions` and as a `decision` event.
 */
export function createModerationPipeline(options: ModerationOptions = {}) {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`Invalid moderation options: ${z.prettifyError(parsed.error)}.`);
  const { blockAt, allowBelow, confidentAt, humanReview } = parsed.data;
  const rules = options.rules ?? DEFAULT_RULES;
  const lexicon = options.lexicon ?? DEFAULT_LEXICON;
  const reviewer = createAgentGraph(
    defineAgent({ name: "moderator", instructions: "You moderate a community chat. Judge the quoted message by its wording and intent: abuse, threats and spam are blocked; disagreement and criticism are allowed.", tools: [], outputSchema: ModelReviewSchema, maxSteps: 1, ...(options.model ? { model: options.model } : {}) }),
  );

  const applyRules = (state: ModerationStateType, config: LangGraphRunnableConfig) => {
    const decisions = state.messages.map((message) => {
      const hit = matchRules(message.text, rules);
      return hit ? decision(message.id, "rules", hit.rule.verdict, `rule "${hit.rule.name}" matched "${hit.matched}"`) : decision(message.id, "rules", "uncertain", "no rule matched");
    });
    return { decisions: announce(config, decisions, (entry) => (entry.outcome === "uncertain" ? "classifier" : entry.outcome)) };
  };

  const classify = (state: ModerationStateType, config: LangGraphRunnableConfig) => {
    const decisions = undecided(state).map((message) => {
      const { score, terms } = scoreText(message.text, lexicon);
      const found = terms.length ? `terms: ${terms.join(", ")}` : "no flagged terms";
      if (score >= blockAt) return decision(message.id, "classifier", "block", `score ${score.toFixed(2)} ≥ ${blockAt} (${found})`, { score });
      if (score < allowBelow) return decision(message.id, "classifier", "allow", `score ${score.toFixed(2)} < ${allowBelow} (${found})`, { score });
      return decision(message.id, "classifier", "uncertain", `score ${score.toFixed(2)} between ${allowBelow} and ${blockAt} (${found}); asking the model`, { score });
    });
    return { decisions: announce(config, decisions, (entry) => (entry.outcome === "uncertain" ? "model-review" : entry.outcome)) };
  };

  const modelReview = async ({ message, score }: ReviewTask, config: LangGraphRunnableConfig) => {
    let entry: ModerationDecision;
    try {
      const prompt = `Should this chat message be allowed or blocked? A keyword classifier scored it ${score.toFixed(2)} (0 clean, 1 abusive).\n\n[${message.id}] ${message.text.replace(/\s+/g, " ")}`;
      const review = (await reviewer.invoke({ messages: [new HumanMessage(prompt)] }, config)).structuredResponse!;
      const { verdict } = review;
      entry = verdict !== "unsure" && review.confidence >= confidentAt
        ? decision(message.id, "model-review", verdict, `${verdict} with confidence ${review.confidence.toFixed(2)} ≥ ${confidentAt}: ${review.reason}`, { score: review.confidence })
        : decision(message.id, "model-review", "uncertain", `${review.verdict} with confidence ${review.confidence.toFixed(2)}${review.verdict === "unsure" ? "" : ` < ${confidentAt}`}; a person decides`, { score: review.confidence });
    } catch (error) {
      // A reviewer that cannot answer (or a spent budget) is exactly what human review is for.
      if (!isBudgetExceeded(error) && !(error instanceof OutputValidationError) && !(error instanceof MaxStepsExceededError)) throw error;
      entry = decision(message.id, "model-review", "uncertain", `the model gave no review (${isBudgetExceeded(error) ? "budget spent" : error.message.slice(0, 80)}); a person decides`);
    }
    return { decisions: announce(config, [entry], (item) => (item.outcome === "uncertain" ? "human-review" : item.outcome)) };
  };

  const humanReviewNode = ({ message, score }: ReviewTask, config: LangGraphRunnableConfig) => {
    const proposed = score >= 0.5 ? "block" : "allow";
    const other = proposed === "block" ? "allow" : "block";
    if (humanReview !== "always" && !runContext(config).approveAnswer) {
      return { decisions: announce(config, [decision(message.id, "human-review", "held", `held for a person (proposed: ${proposed}); run with --approve-answer to review it now`, { score })], () => "held") };
    }
    const summary = `moderate ${message.id}${message.author ? ` by ${message.author}` : ""}: "${message.text.slice(0, 160)}" — proposed ${proposed} (classifier ${score.toFixed(2)}). Approve to ${proposed}, reject to ${other}, or edit with "allow" / "block".`;
    const request: ApprovalRequest = { type: "conclave.approval", kind: "answer", answer: proposed, summary };
    const parsedDecision = ApprovalDecisionSchema.safeParse(interrupt(request));
    if (!parsedDecision.success) throw new ApprovalDecisionError(`The review of ${message.id} is not a decision: ${z.prettifyError(parsedDecision.error)}. Send { decision: "approve" }, { decision: "reject", reason } or { decision: "edit", edit: "allow" | "block" }.`);
    const human = parsedDecision.data;
    let verdict: "allow" | "block" = proposed;
    let why = `approved the proposed ${proposed}`;
    if (human.decision === "reject") [verdict, why] = [other, `rejected the proposed ${proposed}: ${human.reason}`];
    if (human.decision === "edit") {
      if (human.edit !== "allow" && human.edit !== "block") throw new ApprovalDecisionError(`The edit for ${message.id} must be "allow" or "block"; got ${JSON.stringify(human.edit)}. Edit with --edit '"allow"' or --edit '"block"'.`);
      [verdict, why] = [human.edit, `set the verdict to ${human.edit}`];
    }
    return { decisions: announce(config, [decision(message.id, "human-review", verdict, `${human.actor} ${why}`, { actor: human.actor, score })], () => verdict) };
  };

  const report = (state: ModerationStateType, config: LangGraphRunnableConfig) => {
    const results: ModerationResult[] = state.messages.map((message) => {
      const last = state.decisions.findLast((entry) => entry.messageId === message.id)!;
      return { messageId: message.id, verdict: last.outcome === "allow" || last.outcome === "block" ? last.outcome : "needs-review", stage: last.stage, reason: last.reason };
    });
    const count = (verdict: ModerationResult["verdict"]) => results.filter((result) => result.verdict === verdict).length;
    reportEvent(config, { type: "decision", by: "report", next: "finish", reason: `${count("allow")} allowed, ${count("block")} blocked, ${count("needs-review")} held for review` });
    return { results };
  };

  // Parallel model reviews join here, so the fan-out to people happens once, not once per review.
  const escalate = (state: ModerationStateType, config: LangGraphRunnableConfig) => {
    const open = undecided(state);
    reportEvent(config, { type: "decision", by: "escalate", next: open.length ? "human-review" : "report", reason: open.length ? `${open.length} message(s) still uncertain after model review: ${open.map((message) => message.id).join(", ")}` : "the model settled every uncertain message" });
    return {};
  };

  const scoreOf = (state: ModerationStateType, id: string) => state.decisions.findLast((entry) => entry.messageId === id && entry.stage === "classifier")?.score ?? 0.5;
  const fanOut = (node: "model-review" | "human-review") => (state: ModerationStateType) => {
    const open = undecided(state);
    return open.length ? open.map((message) => new Send(node, { message, score: scoreOf(state, message.id) } satisfies ReviewTask)) : "report";
  };
  type Node = (state: ModerationStateType, config: LangGraphRunnableConfig) => Promise<{ decisions: ModerationDecision[] }>;

  const graph = new StateGraph(ModerationState)
    .addNode("rules", observeNode("rules", applyRules))
    .addNode("classifier", observeNode("classifier", classify))
    // Send delivers one message (a ReviewTask), not the whole state, to the two review nodes.
    .addNode("model-review", observeNode("model-review", modelReview) as unknown as Node)
    .addNode("human-review", observeNode("human-review", humanReviewNode) as unknown as Node)
    .addNode("escalate", observeNode("escalate", escalate))
    .addNode("report", observeNode("report", report))
    .addEdge(START, "rules")
    .addConditionalEdges("rules", (state: ModerationStateType) => (undecided(state).length ? "classifier" : "report"), ["classifier", "report"])
    .addConditionalEdges("classifier", fanOut("model-review"), ["model-review", "report"])
    .addEdge("model-review", "escalate")
    .addConditionalEdges("escalate", fanOut("human-review"), ["human-review", "report"])
    .addEdge("human-review", "report")
    .addEdge("report", END)
    .compile({ name: "content-moderation" });
  return setStepBudget(graph, Math.max(stepBudgetOf(reviewer) ?? 0, 8));
}
