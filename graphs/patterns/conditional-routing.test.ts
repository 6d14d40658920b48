import { ConfigSchema, OfflineChatModel, RunEvents, run } from "conclave";
import type { ConclaveEvent, DecisionEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { classifySupport, example } from "./conditional-routing.ts";

const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });

async function route(message: string) {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const { state, usage } = await run(graph, example.input(message), { model: new OfflineChatModel({}), events });
  const decisions = seen.filter((event): event is DecisionEvent => event.type === "decision" && event.by === "conditional-routing");
  return { state, usage, answer: example.output(state), decisions };
}

describe("the conditional-routing example, offline", () => {
  it("routes its sample to the technical pipeline, which collects the diagnostics", async () => {
    const { state, answer, decisions, usage } = await route(example.sample!);
    expect(state.decision).toEqual({ label: "tech", route: "tech", confidence: 0.75, reason: 'classified as "tech" (confidence 0.75): matched "app", "crashes", "error"', fallback: false });
    expect(answer.answer).toBe("[tech] Thanks — a technical ticket is open with errorCode E-4012, appVersion 3.2.1, platform Android 14. An engineer will follow up.");
    expect(decisions.map((decision) => decision.next)).toEqual(["tech"]);
    expect(usage.modelCalls).toBe(0);
  });

  it("routes a billing message to billing", async () => {
    const { state, answer } = await route("I was charged €49.99 twice for my subscription, please refund one payment.");
    expect(state.decision).toMatchObject({ route: "billing", fallback: false, confidence: 1 });
    expect(answer.answer).toBe("[billing] Thanks — billing will review your account and the €49.99 in question within two working days.");
  });

  it("sends a message with no queue's keywords, or an even split, to general support — and says why", async () => {
    const unknown = await route("Do you ship to Norway?");
    expect(unknown.state.decision).toMatchObject({ label: "unknown", route: "general", fallback: true });
    expect(unknown.decisions[0]!.reason).toBe('classified as "unknown" (confidence 0.00): no billing or technical keywords; "unknown" is not a declared route → default route "general"');
    expect(unknown.answer.answer).toMatch(/^\[general\] /);

    const split = await route("The app shows the wrong price.");
    expect(split.state.decision).toMatchObject({ route: "general", fallback: true, confidence: 0.5 });
    expect(split.decisions[0]!.reason).toMatch(/below the minimum confidence 0\.60 → default route "general"$/);
  });

  it("classifies by the queue most of the message's keywords point to", () => {
    expect(classifySupport("My invoice is wrong and the payment failed")).toMatchObject({ label: "billing", confidence: 1 });
    expect(classifySupport("Login is broken after the update")).toMatchObject({ label: "tech", confidence: 1 });
  });
});
