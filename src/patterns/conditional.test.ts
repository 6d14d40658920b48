import { describe, expect, it } from "vitest";
import { DefinitionError } from "../errors.ts";
import { RunEvents, run } from "../index.ts";
import type { ConclaveEvent, DecisionEvent } from "../index.ts";
import { scriptedModel } from "../testing/index.ts";
import { createSequentialGraph } from "./sequential.ts";
import { createRoutingGraph, graphRoute } from "./conditional.ts";

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  const decisions = () => seen.filter((event): event is DecisionEvent => event.type === "decision").map(({ by, next, reason }) => ({ by, next, reason }));
  return { events, seen, decisions };
}

const handled: string[] = [];
const routes = {
  billing: (text: string) => (handled.push("billing"), `billing: ${text}`),
  tech: (text: string) => (handled.push("tech"), `tech: ${text}`),
  general: (text: string) => (handled.push("general"), `general: ${text}`),
};

/** Keywords → label; anything else is labelled "unknown", which is no route. */
const keywords = (text: string) => (/invoice|charge|refund/i.test(text) ? { label: "billing", confidence: 1, reason: "billing keyword" } : /error|crash/i.test(text) ? "tech" : "unknown");

describe("conditional routing", () => {
  it("routes by a rule classifier and reports the decision with its reason", async () => {
    handled.length = 0;
    const graph = createRoutingGraph({ classify: keywords, routes, defaultRoute: "general" });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { input: "My invoice is wrong" }, { events });
    expect(state.output).toBe("billing: My invoice is wrong");
    expect(state.decision).toEqual({ label: "billing", route: "billing", confidence: 1, reason: 'classified as "billing" (confidence 1.00): billing keyword', fallback: false });
    expect(decisions()).toEqual([{ by: "router", next: "billing", reason: 'classified as "billing" (confidence 1.00): billing keyword' }]);
    expect(handled).toEqual(["billing"]);
  });

  it("sends an unknown class down the default route, and the event says so", async () => {
    handled.length = 0;
    const graph = createRoutingGraph({ classify: keywords, routes, defaultRoute: "general" });
    const { events, decisions } = recorder();
    const { state } = await run(graph, { input: "Do you ship to Norway?" }, { events });
    expect(state.output).toBe("general: Do you ship to Norway?");
    expect(state.decision).toMatchObject({ label: "unknown", route: "general", fallback: true });
    expect(decisions()).toEqual([{ by: "router", next: "general", reason: 'classified as "unknown"; "unknown" is not a declared route → default route "general"' }]);
    expect(handled).toEqual(["general"]);
  });

  it("routes by a model classifier's structured label (withStructuredOutput on the scripted model)", async () => {
    const model = scriptedModel().answer({ label: "Tech", confidence: 0.82, reason: "The app crashes on start." });
    const graph = createRoutingGraph({
      classify: { labels: { billing: "payments, invoices and refunds", tech: "bugs, crashes and error messages" }, instructions: "Tickets come from a mobile app.", model },
      routes,
      defaultRoute: "general",
    });
    const { events, decisions, seen } = recorder();
    const { state } = await run(graph, { input: "The app closes as soon as I open it" }, { events });
    expect(state.output).toBe("tech: The app closes as soon as I open it");
    expect(state.decision).toEqual({ label: "Tech", route: "tech", confidence: 0.82, reason: 'classified as "Tech" (confidence 0.82): The app crashes on start.', fallback: false });
    expect(decisions()).toEqual([{ by: "router", next: "tech", reason: 'classified as "Tech" (confidence 0.82): The app crashes on start.' }]);
    // The model saw the labels with their meanings, and the message itself.
    const [system, user] = model.requests[0]!;
    expect(system!.content).toContain("- billing: payments, invoices and refunds\n- tech: bugs, crashes and error messages");
    expect(system!.content).toContain("Tickets come from a mobile app.");
    expect(user).toMatchObject({ role: "user", content: "The app closes as soon as I open it" });
    expect(seen.find((event) => event.type === "llm-call-end")).toMatchObject({ agent: "classifier" });
  });

  it("takes the default route when the model's label is no route, its confidence too low, or its answer invalid", async () => {
    const classify = (model: ReturnType<typeof scriptedModel>) => ({ labels: { billing: "payments", tech: "bugs" }, model });
    const other = createRoutingGraph({ classify: classify(scriptedModel().answer({ label: "other", confidence: 0.9, reason: "A shipping question." })), routes, defaultRoute: "general" });
    expect((await run(other, { input: "Where is my parcel?" })).state.decision).toMatchObject({ route: "general", fallback: true, reason: 'classified as "other" (confidence 0.90): A shipping question.; "other" is not a declared route → default route "general"' });

    const unsure = createRoutingGraph({ classify: classify(scriptedModel().answer({ label: "billing", confidence: 0.3, reason: "Maybe a refund." })), routes, defaultRoute: "general", minConfidence: 0.6 });
    expect((await run(unsure, { input: "Hmm" })).state.decision).toMatchObject({ label: "billing", route: "general", fallback: true, reason: 'classified as "billing" (confidence 0.30): Maybe a refund.; below the minimum confidence 0.60 → default route "general"' });

    const broken = createRoutingGraph({ classify: classify(scriptedModel().answer({ label: "billing" }).answer({ label: "billing", confidence: 7 })), routes, defaultRoute: "general" });
    const { state } = await run(broken, { input: "?" });
    expect(state.decision).toMatchObject({ label: "", route: "general", fallback: true });
    expect(state.decision!.reason).toMatch(/^the classifier gave no valid answer \(.*\) → default route "general"$/);
  });

  it("runs a subgraph as a route, inside the run", async () => {
    const pipeline = createSequentialGraph<string>({ stages: [{ name: "shout", run: ({ input }) => input.toUpperCase() }, { name: "sign", run: ({ value }) => `${String(value)} -- tech` }] });
    const graph = createRoutingGraph({
      classify: () => "tech",
      routes: { tech: graphRoute({ graph: pipeline, input: (text) => ({ input: text }), output: (state) => state.value }), general: () => "general" },
      defaultRoute: "general",
    });
    const { events, seen } = recorder();
    const { state } = await run(graph, { input: "it crashed" }, { events });
    expect(state.output).toBe("IT CRASHED -- tech");
    expect(seen.filter((event) => event.type === "node-start").map((event) => (event as { node: string; namespace: string }).node)).toEqual(["classify", "tech", "shout", "sign"]);
  });

  it("rejects undeclared routes at build time", () => {
    expect(() => createRoutingGraph({ classify: keywords, routes, defaultRoute: "sales" as never })).toThrow(DefinitionError);
    expect(() => createRoutingGraph({ classify: keywords, routes, defaultRoute: "sales" as never })).toThrow('defaultRoute "sales" is not a declared route. Declared routes: billing, tech, general.');
    expect(() => createRoutingGraph({ classify: { labels: { billing: "payments", refunds: "money back" } }, routes, defaultRoute: "general" })).toThrow(/labels "refunds" are not declared routes/);
    expect(() => createRoutingGraph({ classify: { labels: {} }, routes, defaultRoute: "general" })).toThrow(/needs labels/);
    expect(() => createRoutingGraph({ classify: keywords, routes: { classify: () => 1 }, defaultRoute: "classify" })).toThrow(/not allowed/);
    expect(() => createRoutingGraph({ classify: keywords, routes: { output: () => 1 }, defaultRoute: "output" })).toThrow(/not allowed/);
    expect(() => createRoutingGraph({ classify: keywords, routes: { general: 42 as never }, defaultRoute: "general" })).toThrow(/a route is a function/);
    expect(() => createRoutingGraph({ classify: "billing" as never, routes, defaultRoute: "general" })).toThrow(/classify must be a function/);
  });
});
