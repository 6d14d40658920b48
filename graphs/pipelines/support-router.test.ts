import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, OfflineChatModel, OfflineEmbeddings, RunEvents, corpusIndex, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { SUPPORT_KB, createSupportRouterGraph, example, intentByRules, sentimentOf, ticketsFrom } from "./support-router.ts";

const context = () => ({ config: ConfigSchema.parse({}), cwd: mkdtempSync(join(tmpdir(), "conclave-support-")) });
const knowledgeBase = corpusIndex({ folder: SUPPORT_KB, embeddings: new OfflineEmbeddings({}) });

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, routed: () => seen.flatMap((event) => (event.type === "decision" && event.by === "route" ? [`${event.reason.split(":")[0]}→${event.next}`] : [])) };
}

describe("the support router", () => {
  it("routes the sample offline: FAQs answered from the knowledge base, departments by intent, the furious customer escalated", async () => {
    const { events, routed } = recorder();
    const { state } = await run(example.build(context()), example.input(example.sample!), { model: new OfflineChatModel({}), events });
    expect(state.routes.map((route) => `${route.ticketId}:${route.queue}:${route.status}`)).toEqual([
      "t1:knowledge-base:auto-answered",
      "t2:billing:queued",
      "t3:technical:queued",
      "t4:account:queued",
      "t5:escalation:queued",
      "t6:knowledge-base:auto-answered",
      "t7:general:queued",
    ]);
    const [t1, , , , t5, t6, t7] = state.routes;
    expect(t1!.answer).toContain('choose "Forgot password"');
    expect(t1!.citations!.map((citation) => citation.source)).toEqual(["password-reset#1"]);
    expect(t6!.answer).toContain("3 to 5 business days");
    expect(t5).toMatchObject({ intent: "billing", sentiment: expect.any(Number) });
    expect(t5!.sentiment).toBeLessThanOrEqual(-0.5);
    expect(t5!.reason).toMatch(/^sentiment -0\.\d+ ≤ -0\.5 \(.*furious.*\)/);
    // No keyword placed t7, so the model classified it.
    expect(state.intents.find((intent) => intent.ticketId === "t7")).toMatchObject({ by: "model" });
    expect(t7!.intent).toBe("other");
    expect(routed()).toEqual(["t1→knowledge-base", "t2→billing", "t3→technical", "t4→account", "t5→escalation", "t6→knowledge-base", "t7→general"]);
    expect(example.output(state).citations.map((citation) => citation.source)).toEqual(["password-reset#1", "shipping#1"]);
  });

  it("escalates very negative tickets whatever their intent, FAQs included, at the configured threshold", async () => {
    const tickets = ticketsFrom(JSON.stringify(["How do I reset my password? This is ridiculous, the worst service ever, I am furious!!!", "I was charged twice. Unacceptable, I am angry!", "I was charged twice, could you refund one payment?"]));
    const strict = await run(createSupportRouterGraph({ knowledgeBase }), { tickets }, { model: new OfflineChatModel({}) });
    expect(strict.state.routes.map((route) => [route.intent, route.queue])).toEqual([["faq", "escalation"], ["billing", "escalation"], ["billing", "billing"]]);
    expect(strict.state.routes.map((route) => route.sentiment)).toEqual([expect.any(Number), expect.any(Number), 0]);
    expect(strict.state.routes.slice(0, 2).every((route) => route.sentiment <= -0.5)).toBe(true);
    // A stricter threshold escalates only the angriest; the FAQ then goes to the knowledge base (or its department).
    const lenient = await run(createSupportRouterGraph({ knowledgeBase, escalateAt: -0.8 }), { tickets }, { model: new OfflineChatModel({}) });
    expect(lenient.state.routes.map((route) => route.queue)).toEqual([expect.not.stringMatching(/escalation/), "billing", "billing"]);
  });

  it("sends an FAQ the knowledge base does not cover to its department, and a ticket the rules cannot place to the model", async () => {
    // One model for both: the intent call comes first, then the knowledge-base answer.
    const model = scriptedModel().answer({ intent: "billing", reason: "It asks about a discount, a pricing matter." }).reply("Invoices are emailed to you [refund-policy#1].");
    const tickets = [{ id: "a", text: "How do I download my invoice as a PDF for my payment records?" }, { id: "b", text: "Do you have a discount for schools?" }];
    const { state } = await run(createSupportRouterGraph({ knowledgeBase, model, minRelevance: 0.9 }), { tickets }, { model: new OfflineChatModel({}) });
    expect(state.routes[0]).toMatchObject({ intent: "faq", queue: "billing", status: "queued" });
    expect(state.routes[0]!.reason).toMatch(/the knowledge base does not cover it, so it goes to billing$/);
    expect(state.routes[1]).toMatchObject({ intent: "billing", queue: "billing" });
    expect(state.intents.find((intent) => intent.ticketId === "b")!.reason).toBe("no department keywords; the model says billing: It asks about a discount, a pricing matter.");
    expect(model.requests[0]!.at(-1)!.content).toBe("What is this support ticket about?\n\n[b] Do you have a discount for schools?");
  });

  it("reads intents and sentiment from clear-cut wording", () => {
    expect(intentByRules("I was charged twice, please refund the payment.")).toMatchObject({ intent: "billing", fallback: "billing" });
    expect(intentByRules("The app crashes with an error.")).toMatchObject({ intent: "technical" });
    expect(intentByRules("I cannot log in to my account.")).toMatchObject({ intent: "account" });
    expect(intentByRules("How long does shipping take?")).toMatchObject({ intent: "faq", fallback: "general" });
    expect(intentByRules("My invoice shows an error.").intent).toBeUndefined();
    expect(sentimentOf("Thanks, great help, I appreciate it!").score).toBeGreaterThan(0.5);
    expect(sentimentOf("My order arrived.").score).toBe(0);
    expect(sentimentOf("WORST service. I am FURIOUS!!!").score).toBeLessThan(-0.7);
  });
});
