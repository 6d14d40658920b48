import { AIMessage } from "@langchain/core/messages";
import { scriptedModel } from "conclave/testing";
import type { ScriptedChatModel } from "conclave/testing";

/**
 * For the suites' tests: a scripted model that answers each question from its own list of
 * replies, in turn, whatever order concurrent calls (voters, debate solvers, samples) arrive in.
 * A call is matched to the question its last user message contains; running out is an error.
 */
export function answeringModel(replies: Record<string, readonly string[]>): ScriptedChatModel {
  const queues = new Map(Object.entries(replies).map(([question, answers]) => [question, [...answers]]));
  const model = scriptedModel();
  const total = [...queues.values()].reduce((sum, answers) => sum + answers.length, 0);
  for (let index = 0; index < total; index++) {
    model.respond((messages) => {
      const prompt = messages.filter((message) => message.getType() === "human").at(-1)?.text ?? "";
      const question = [...queues.keys()].find((candidate) => prompt.includes(candidate));
      const reply = question === undefined ? undefined : queues.get(question)!.shift();
      if (reply === undefined) return new Error(`No scripted reply left for "${prompt.slice(0, 80)}".`);
      const output = Math.max(1, Math.ceil(reply.length / 4));
      return new AIMessage({ content: reply, usage_metadata: { input_tokens: 0, output_tokens: output, total_tokens: output } });
    });
  }
  return model;
}
