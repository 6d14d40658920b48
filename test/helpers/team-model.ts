import type { RecordedRequest, ScriptedReply } from "../../src/testing/index.ts";

type Message = { role: string; content: string | null; tool_calls?: Array<{ function: { name: string; arguments: string } }> };
const text = (message: Message | undefined) => String(message?.content ?? "");

/** Which team role sent a request, read from its system prompt. */
export function roleOf(request: RecordedRequest): string {
  const system = text(request.body.messages[0]);
  if (system.includes("Break the user's task")) return "planner";
  if (system.includes("Write the final answer")) return "synthesizer";
  if (system.includes("research agent")) return "research";
  if (system.includes("writing agent")) return "writing";
  if (system.includes("verification agent")) return "verification";
  return "unknown";
}

/** A stand-in model that follows each role's instructions, so the whole team runs over real HTTP. */
export function teamModel(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as Message[];
  const last = messages.at(-1)!;
  const forced = request.body.tool_choice?.function?.name as string | undefined;
  const lastUser = text([...messages].reverse().find((message) => message.role === "user"));
  switch (roleOf(request)) {
    case "planner":
      return { kind: "tool-calls", calls: [{ name: forced!, arguments: { subQuestions: [{ question: "When did Apollo 11 land on the Moon?" }] } }] };
    case "research":
      if (last.role === "user") return { kind: "tool-calls", calls: [{ name: "retrieve", arguments: { query: lastUser } }] };
      return { kind: "text", content: "On 20 July 1969, Armstrong and Aldrin landed Eagle in the Sea of Tranquility. [apollo-11#2]" };
    case "writing":
      return { kind: "text", content: lastUser.split("\n").filter((line) => line.startsWith("[")).map((line) => `${line.replace(/^\[[^\]]+\]\s*/, "")} ${/^\[[^\]]+\]/.exec(line)![0]}`).join(" ") };
    case "verification": {
      if (forced) {
        const verdict = /Verdict: (\w+)/.exec(text(messages.findLast((message) => message.role === "tool")))?.[1] ?? "unsupported";
        return { kind: "tool-calls", calls: [{ name: forced, arguments: { verdict, problem: "", suggestion: "" } }] };
      }
      if (last.role === "user") return { kind: "tool-calls", calls: [{ name: "check_support", arguments: { claim: lastUser } }] };
      return { kind: "text", content: "I checked the claim with check_support." };
    }
    case "synthesizer":
      return { kind: "text", content: lastUser.split("\n").filter((line) => line.startsWith("[")).map((line) => `${line.replace(/^\[[^\]]+\]\s*/, "")} ${/^\[[^\]]+\]/.exec(line)![0]}`).join(" ") };
    default:
      return { kind: "error", status: 400, body: { error: { message: "unrecognised request", type: "invalid_request_error" } } };
  }
}
