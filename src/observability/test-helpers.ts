import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { Writable } from "node:stream";
import { z } from "zod";
import { createAgentGraph } from "../agent/agent-graph.ts";
import { defineAgent } from "../agent/define-agent.ts";
import type { RunEvents } from "../events/emitter.ts";
import type { ResponseCache } from "../resilience/cache/response-cache.ts";
import { run } from "../runtime/run.ts";
import { scriptedModel } from "../testing/index.ts";
import { defineTool } from "../tool/define-tool.ts";

/** Shared by the observability tests: a ReAct agent run that calls one tool, then answers. */

export const MODEL = { provider: "openai", name: "gpt-test", offline: false };
/** $1 per million input tokens, $2 per million output tokens. */
export const PRICING = { models: { "gpt-test": { input: 1, output: 2 } }, default: { input: 0, output: 0 } };

export const calculator = defineTool({
  name: "calculator",
  description: "Adds two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

export const mathAgent = defineAgent({ name: "mathy", instructions: "You add numbers with the calculator.", tools: [calculator], maxSteps: 4 });

/** The model's first answer: call the calculator (1000 input / 20 output tokens). */
export function calculatorCall(): AIMessage {
  return new AIMessage({ content: "", tool_calls: [{ type: "tool_call", name: "calculator", args: { a: 2, b: 3 }, id: "call_1" }], usage_metadata: { input_tokens: 1000, output_tokens: 20, total_tokens: 1020 } });
}

/** A model that calls the calculator, then answers (1200 input / 10 output tokens). */
export function toolThenAnswer() {
  return scriptedModel()
    .respond(calculatorCall())
    .respond(new AIMessage({ content: "2 + 3 = 5", usage_metadata: { input_tokens: 1200, output_tokens: 10, total_tokens: 1210 } }));
}

export function runMathAgent(events: RunEvents, options: { model?: ReturnType<typeof scriptedModel>; cache?: ResponseCache } = {}) {
  return run(createAgentGraph(mathAgent), { messages: [new HumanMessage("What is 2 + 3?")] }, { events, model: options.model ?? toolThenAnswer(), modelInfo: MODEL, pricing: PRICING, ...(options.cache ? { cache: options.cache } : {}) });
}

/** A writable stream that keeps what was written, as text. */
export function captureStream(): Writable & { text(): string } {
  const chunks: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return Object.assign(stream, { text: () => chunks.join("") });
}
