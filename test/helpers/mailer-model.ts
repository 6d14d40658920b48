import type { RecordedRequest, ScriptedReply } from "../../src/testing/index.ts";

/** The mailroom fixture's model: asked to email someone, it calls send_mail; shown the tool's answer, it reports it. */
export function mailerModel(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as Array<{ role: string; content: string | null }>;
  const last = messages.at(-1)!;
  if (last.role === "user") {
    const [, to, body] = /^Email (\w+): (.*)$/s.exec(String(last.content)) ?? [];
    return { kind: "tool-calls", calls: [{ name: "send_mail", arguments: { to, body } }] };
  }
  return { kind: "text", content: `done: ${String(last.content)}` };
}
