import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, RemoveMessage, SystemMessage, ToolMessage, trimMessages } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import { REMOVE_ALL_MESSAGES } from "@langchain/langgraph";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { createRequire } from "node:module";
import { Tiktoken } from "js-tiktoken/lite";
import type { TiktokenBPE } from "js-tiktoken/lite";
import { ConclaveError, DefinitionError } from "../errors.ts";
import { AGENT_METADATA_KEY, observeModelCall } from "../models/observe.ts";
import { modelCallLabel } from "../models/call-label.ts";
import { idfWeights, overlapScore, terms } from "../models/offline/text.ts";
import { defaultModel } from "../models/resolve.ts";
import { reportEvent, runContext } from "../runtime/context.ts";
import { observeNode } from "../runtime/observe-node.ts";

/** The BPE vocabularies bundled with js-tiktoken that Conclave counts with (no download): GPT-4 / GPT-3.5 and GPT-4o families. */
export type TokenEncoding = "cl100k_base" | "o200k_base";

export interface TokenCountOptions {
  /** Default "cl100k_base". */
  encoding?: TokenEncoding;
}

/** A conversation or a text does not fit the token budget even after trimming. */
export class ContextWindowError extends ConclaveError {
  override name = "ContextWindowError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("CONTEXT_WINDOW", "user", message, { details });
  }
}

// The ranks are megabytes of JavaScript (o200k takes ~100 ms to load) and building an encoder from
// them a quarter of a second more: both happen on first use of an encoding, not on `import "conclave"`.
const RANKS: Record<TokenEncoding, string> = { cl100k_base: "js-tiktoken/ranks/cl100k_base", o200k_base: "js-tiktoken/ranks/o200k_base" };
const load = createRequire(import.meta.url);
const encoders = new Map<TokenEncoding, Tiktoken>();

function encoder(encoding: TokenEncoding = "cl100k_base"): Tiktoken {
  let found = encoders.get(encoding);
  if (!found) {
    if (!Object.hasOwn(RANKS, encoding)) throw new DefinitionError(`Unknown token encoding "${String(encoding)}". Use "cl100k_base" or "o200k_base".`);
    const ranks = load(RANKS[encoding]) as TiktokenBPE | { default: TiktokenBPE };
    encoders.set(encoding, (found = new Tiktoken("default" in ranks ? ranks.default : ranks)));
  }
  return found;
}

// Special-token text ("<|endoftext|>") in user content is counted as plain text, never refused.
const encode = (text: string, encoding?: TokenEncoding) => encoder(encoding).encode(text, [], []);

/**
 * Tokens in a text, or in a conversation as a chat model is sent it: each message's role, name,
 * text and tool calls plus OpenAI's framing (3 tokens a message, 3 to prime the reply). Counted
 * with the tokenizer's real vocabulary (js-tiktoken's bundled ranks), offline.
 *
 * @example countTokens("hello world") // 2
 * @example countTokens([new SystemMessage("Be brief."), new HumanMessage("Hi")], { encoding: "o200k_base" })
 */
export function countTokens(input: string | readonly BaseMessage[], options: TokenCountOptions = {}): number {
  if (typeof input === "string") return encode(input, options.encoding).length;
  // Additive per message (plus the reply primer once), so windows can be sized message by message.
  return input.length === 0 ? 0 : 3 + input.reduce((sum, message) => sum + messageTokens(message, options.encoding), 0);
}

/** The role a provider sees: "system", "user", "assistant" or "tool". */
function roleOf(message: BaseMessage): string {
  const type = message.getType();
  return type === "human" ? "user" : type === "ai" ? "assistant" : type;
}

/** "User", "Assistant", "Tool": who said a dropped message, for its summary. */
function speakerOf(message: BaseMessage): string {
  const role = roleOf(message);
  return role.charAt(0).toUpperCase() + role.slice(1);
}

function messageTokens(message: BaseMessage, encoding?: TokenEncoding): number {
  let tokens = 3 + encode(roleOf(message), encoding).length + encode(message.text, encoding).length;
  if (message.name) tokens += 1 + encode(message.name, encoding).length;
  const calls = AIMessage.isInstance(message) ? (message.tool_calls ?? []) : [];
  for (const call of calls) tokens += encode(`${call.name}${JSON.stringify(call.args)}`, encoding).length;
  return tokens;
}

/** The first `tokens` tokens of a text. */
function truncate(text: string, tokens: number, encoding?: TokenEncoding): string {
  const ids = encode(text, encoding);
  return ids.length <= tokens ? text : encoder(encoding).decode(ids.slice(0, Math.max(0, tokens)));
}

/** A whole number of at least `min`, or a DefinitionError that names the option and the value. */
function whole(option: string, value: unknown, min = 1): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= min) return value;
  throw new DefinitionError(`${option} must be a whole number of at least ${min}; got ${JSON.stringify(value)}.`);
}

export interface SlidingWindowOptions extends TokenCountOptions {
  /** Most tokens in each window, the system messages included. */
  maxTokens: number;
  /** Messages each window repeats from the end of the one before (default 1). */
  overlap?: number;
}

/**
 * Cuts a long conversation into overlapping windows that each fit `maxTokens`: every window
 * starts with the conversation's leading system messages, then a run of consecutive messages;
 * each repeats the last `overlap` messages of the window before it (fewer only when the next
 * message would not fit beside them), so nothing said at a boundary loses its context. An
 * assistant turn that calls tools stays together with its results. The last window is the most
 * recent context; the earlier ones are what to summarise or index.
 *
 * @example
 * const windows = slidingWindow(messages, { maxTokens: 2_000, overlap: 2 });
 * const latest = windows.at(-1)!;
 */
export function slidingWindow(messages: readonly BaseMessage[], options: SlidingWindowOptions): BaseMessage[][] {
  const maxTokens = whole("slidingWindow's maxTokens", options.maxTokens);
  const overlap = whole("slidingWindow's overlap", options.overlap ?? 1, 0);
  const lead = messages.findIndex((message) => !SystemMessage.isInstance(message));
  const system = lead === -1 ? [...messages] : messages.slice(0, lead);
  const units = toUnits(lead === -1 ? [] : messages.slice(lead));
  const fixed = 3 + system.reduce((sum, message) => sum + messageTokens(message, options.encoding), 0);
  const sizes = units.map((unit) => unit.reduce((sum, message) => sum + messageTokens(message, options.encoding), 0));
  const room = maxTokens - fixed;
  const tooBig = sizes.findIndex((size) => size > room);
  if (tooBig !== -1) throw new ContextWindowError(`Message ${tooBig + 1} after the system prompt needs ${sizes[tooBig]} tokens, but a window of ${maxTokens} leaves ${Math.max(0, room)} beside the system messages. Raise maxTokens, or summarise or split that message first.`, { maxTokens, room });
  if (units.length === 0) return [system];
  const windows: BaseMessage[][] = [];
  const sum = (from: number, to: number) => sizes.slice(from, to).reduce((total, size) => total + size, 0);
  let start = 0;
  for (;;) {
    let end = start;
    while (end < units.length && sum(start, end + 1) <= room) end++;
    windows.push([...system, ...units.slice(start, end).flat()]);
    if (end >= units.length) return windows;
    // Repeat up to `overlap` units, but always leave room for the next new one.
    start = Math.max(start + 1, end - overlap);
    while (start < end && sum(start, end + 1) > room) start++;
  }
}

/** Messages as indivisible units: an assistant turn with tool calls and the tool results that answer it. */
function toUnits(messages: readonly BaseMessage[]): BaseMessage[][] {
  const units: BaseMessage[][] = [];
  for (const message of messages) {
    if (ToolMessage.isInstance(message) && units.length) units.at(-1)!.push(message);
    else units.push([message]);
  }
  return units;
}

export interface PruneOptions<P> extends TokenCountOptions {
  /** Most tokens the kept passages may take, rendered and joined. */
  budget: number;
  /** Relevance of a passage to the query, higher is better (default: IDF-weighted share of the query's content words it contains). */
  relevance?: (passage: P, query: string) => number;
  /** How a passage appears in the context (default: its text). */
  render?: (passage: P) => string;
  /** Between rendered passages (default a blank line). */
  separator?: string;
}

export interface Pruned<P> {
  /** Best first. */
  kept: P[];
  dropped: P[];
  /** Tokens of the kept passages rendered and joined: never above the budget. */
  tokens: number;
  /** The kept passages rendered and joined: the context to put in a prompt. */
  context: string;
}

/**
 * Keeps the passages most relevant to a query that fit a token budget: ranks them, then takes
 * them best first, skipping any that would overflow (a smaller, less relevant one may still fit).
 * The result is counted as it will be sent — rendered and joined — and never exceeds the budget.
 *
 * @example
 * const { kept, context } = pruneByRelevance(hits, question, { budget: 800, relevance: (hit) => hit.score, render: (hit) => `[${hit.id}] ${hit.text}` });
 */
export function pruneByRelevance<P extends string | { text: string }>(passages: readonly P[], query: string, options: PruneOptions<P>): Pruned<P> {
  const budget = whole("pruneByRelevance's budget", options.budget);
  const textOf = (passage: P) => (typeof passage === "string" ? passage : passage.text);
  const render = options.render ?? textOf;
  const separator = options.separator ?? "\n\n";
  const weights = idfWeights(passages.map(textOf));
  const queryTerms = terms(query);
  const score = options.relevance ?? ((passage: P) => overlapScore(queryTerms, textOf(passage), weights));
  // Stable sort: equally relevant passages keep their given order (a retriever's rank).
  const ranked = passages.map((passage, order) => ({ passage, order, relevance: score(passage, query) })).sort((a, b) => b.relevance - a.relevance || a.order - b.order);
  const kept: typeof ranked = [];
  const join = (items: typeof ranked) => items.map((item) => render(item.passage)).join(separator);
  for (const item of ranked) {
    if (countTokens(join([...kept, item]), options) <= budget) kept.push(item);
  }
  const context = join(kept);
  return { kept: kept.map((item) => item.passage), dropped: ranked.filter((item) => !kept.includes(item)).map((item) => item.passage), tokens: countTokens(context, options), context };
}

export interface SummarizeOptions {
  /** Default: the run's model. */
  model?: BaseChatModel;
  /** How many texts one summary call reads (default 4, at least 2). */
  fanIn?: number;
  /** A question the summary should keep what is needed for (query-focused summarisation). */
  focus?: string;
  /** The summariser's system prompt. */
  instructions?: string;
  /** The node's config: pass it so the calls join the run (events, budget, cache, cancellation). */
  config?: LangGraphRunnableConfig;
}

const SUMMARY_PREFIX = "Summary of the earlier conversation:\n[conversation-summary] ";
const SUMMARY_INSTRUCTIONS = "You summarise texts faithfully and briefly. Keep names, numbers, dates and decisions exactly as written; add nothing that is not in the texts.";
const PART = /\[part-\d+\]\s*/g;

/**
 * Summarises many texts as a tree: groups of `fanIn` texts are summarised together, then groups
 * of those summaries, until one summary is left — ceil(n/fanIn) calls on the first level,
 * ceil of that over fanIn on the next, and so on, each level's calls in parallel. Every call goes
 * through `observeModelCall` (budget, cache, retries, events under the agent name "summarizer").
 *
 * @example
 * const { summary, levels } = await summarizeHierarchically(chapters, { fanIn: 3, focus: "Who holds the key?", config });
 */
export async function summarizeHierarchically(chunks: readonly string[], options: SummarizeOptions = {}): Promise<{ summary: string; levels: string[][] }> {
  // A fan-in of 1 would never narrow the tree.
  const fanIn = whole("summarizeHierarchically's fanIn", options.fanIn ?? 4, 2);
  if (chunks.length === 0) throw new DefinitionError("summarizeHierarchically needs at least one text to summarise.");
  const levels: string[][] = [];
  let current = [...chunks];
  do {
    const groups = Array.from({ length: Math.ceil(current.length / fanIn) }, (_, index) => current.slice(index * fanIn, (index + 1) * fanIn));
    current = await Promise.all(groups.map((group) => summarizeGroup(group, options)));
    levels.push(current);
  } while (current.length > 1);
  return { summary: current[0]!, levels };
}

async function summarizeGroup(texts: readonly string[], options: SummarizeOptions): Promise<string> {
  const config: LangGraphRunnableConfig = { ...options.config, metadata: { ...options.config?.metadata, [AGENT_METADATA_KEY]: "summarizer" } };
  const context = runContext(config);
  const model = options.model ?? context.model ?? defaultModel();
  const request = [
    // The question on a line of its own, so it reads as a question rather than the tail of an instruction.
    ...(options.focus ? ["Summarise these texts, keeping everything that helps answer this question:", options.focus.replace(/\s+/g, " ").trim()] : ["Summarise these texts."]),
    "",
    // Marked parts are what a reader can quote; the markers are removed from the summary.
    ...texts.map((text, index) => `[part-${index + 1}] ${text.replace(/\s+/g, " ").trim()}`),
  ].join("\n");
  const messages = [new SystemMessage(options.instructions ?? SUMMARY_INSTRUCTIONS), new HumanMessage(request)];
  const label = modelCallLabel(model, config, messages);
  const response = await observeModelCall(config, label, (signal, backup) => (backup ?? model).invoke(messages, signal ? { ...config, signal } : config));
  return response.text.replace(PART, "").replace(/\s+/g, " ").trim();
}

export interface FitToWindowOptions extends TokenCountOptions {
  /** Most tokens the conversation may take after fitting. */
  maxTokens: number;
  /** The state key holding the conversation (default "messages"). */
  from?: string;
  /** Where the fitted conversation goes (default `from`, which must then be a messages channel: its history is replaced). */
  to?: string;
  /** Summarise the dropped messages into one message instead of losing them. */
  summarize?: Omit<SummarizeOptions, "config" | "focus"> & { maxTokens?: number };
  /** A state key to write what was done to ({ tokensBefore, tokensAfter, dropped, summarized }). */
  record?: string;
  /** The node's name in events (default "fit-to-window"). */
  name?: string;
}

/** What `fitToWindow` did, written to `record` when given. */
export interface WindowFit {
  tokensBefore: number;
  tokensAfter: number;
  dropped: number;
  summarized: boolean;
}

/**
 * A graph node that fits a conversation into `maxTokens` before a model call: it keeps the system
 * messages and the most recent messages that fit, starting on a user turn (LangChain's
 * `trimMessages`, counted with `countTokens`), and — with `summarize` — replaces what it dropped
 * by a summary of it (`summarizeHierarchically`, focused on the latest user message). A
 * `decision` event says what was dropped. The node is already wrapped in `observeNode`.
 *
 * @example
 * new StateGraph(MessagesZodState)
 *   .addNode("fit", fitToWindow({ maxTokens: 3_000, summarize: { fanIn: 4 } }))
 *   .addNode("answer", answer)
 *   .addEdge(START, "fit").addEdge("fit", "answer");
 */
export function fitToWindow(options: FitToWindowOptions) {
  const maxTokens = whole("fitToWindow's maxTokens", options.maxTokens);
  const { from = "messages", encoding, summarize, record, name = "fit-to-window" } = options;
  const to = options.to ?? from;
  const reserve = summarize ? whole("fitToWindow's summarize.maxTokens", summarize.maxTokens ?? Math.floor(maxTokens / 4), 0) : 0;
  if (reserve >= maxTokens) throw new DefinitionError(`fitToWindow's summary budget (${reserve}) must be below maxTokens (${maxTokens}).`);
  const count = (messages: readonly BaseMessage[]) => countTokens(messages, { encoding });

  const node = async (state: Record<string, unknown>, config: LangGraphRunnableConfig) => {
    const messages = (state[from] ?? []) as BaseMessage[];
    const tokensBefore = count(messages);
    const done = (fitted: BaseMessage[], fit: WindowFit) => ({
      ...(fitted !== messages || to !== from ? { [to]: to === from ? [new RemoveMessage({ id: REMOVE_ALL_MESSAGES }), ...fitted] : fitted } : {}),
      ...(record ? { [record]: fit } : {}),
    });
    if (tokensBefore <= maxTokens) return done(messages, { tokensBefore, tokensAfter: tokensBefore, dropped: 0, summarized: false });

    const lead = messages.findIndex((message) => !SystemMessage.isInstance(message));
    const system = messages.slice(0, lead === -1 ? messages.length : lead);
    // Counts add up message by message, so the rest gets what the system messages leave (their reply primer is shared).
    const room = maxTokens - reserve - (system.length ? count(system) - 3 : 0);
    const rest = messages.slice(system.length);
    const recent = room > 3 ? (await trimMessages(rest, { maxTokens: room, strategy: "last", tokenCounter: count, startOn: "human" })).filter(Boolean) : [];
    if (recent.length === 0) throw new ContextWindowError(`The latest user turn does not fit in the ${maxTokens - reserve} tokens left for the conversation beside the system prompt. Raise maxTokens, lower the summary budget, or shorten that message.`, { maxTokens, reserve });
    const dropped = messages.slice(system.length, messages.length - recent.length);
    let fitted = [...system, ...recent];
    // Room for the summary's text once its message is framed; none means the summary budget was too small to hold any.
    let summaryRoom = maxTokens - count([...system, new HumanMessage(SUMMARY_PREFIX), ...recent]);
    const summarized = Boolean(summarize && dropped.length && summaryRoom > 0);
    if (summarize && summarized) {
      const { maxTokens: _budget, ...settings } = summarize;
      const focus = [...messages].reverse().find((message) => HumanMessage.isInstance(message))?.text;
      const { summary } = await summarizeHierarchically(dropped.map((message) => `${speakerOf(message)}: ${message.text}`), { ...settings, ...(focus ? { focus } : {}), config });
      // A summary message, like LangChain's summarization middleware, marked as a citable source.
      const withSummary = (tokens: number) => [...system, new HumanMessage(`${SUMMARY_PREFIX}${truncate(summary, tokens, encoding)}`), ...recent];
      // Tokens can merge across the join, so check the whole and shorten until it fits.
      while (summaryRoom > 0 && count(withSummary(summaryRoom)) > maxTokens) summaryRoom -= Math.max(1, count(withSummary(summaryRoom)) - maxTokens);
      fitted = withSummary(Math.max(0, summaryRoom));
    }
    const tokensAfter = count(fitted);
    reportEvent(config, { type: "decision", by: name, next: "continue", reason: `conversation of ${tokensBefore} tokens > ${maxTokens}: dropped the ${dropped.length} oldest messages${summarized ? " and summarised them" : ""}, keeping ${recent.length} (${tokensAfter} tokens)` });
    return done(fitted, { tokensBefore, tokensAfter, dropped: dropped.length, summarized });
  };
  return observeNode(name, node);
}
