import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createAgentGraph } from "../src/agent/agent-graph.ts";
import { defineAgent } from "../src/agent/define-agent.ts";
import { RunEvents } from "../src/events/emitter.ts";
import { attachTracing, createTracerProvider } from "../src/observability/index.ts";
import { run } from "../src/runtime/run.ts";
import { scriptedModel } from "../src/testing/index.ts";
import { defineTool } from "../src/tool/define-tool.ts";

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpBody {
  resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** A local OTLP/HTTP receiver: keeps the JSON body of every POST /v1/traces. */
function otlpReceiver() {
  const bodies: OtlpBody[] = [];
  const requests: Array<{ url: string; contentType: string | undefined }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      requests.push({ url: request.url ?? "", contentType: request.headers["content-type"] });
      if (request.method === "POST" && request.url === "/v1/traces") bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpBody);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  return { server, bodies, requests };
}

/** OTLP JSON attribute values as plain values (64-bit integers arrive as strings). */
function attributesOf(list: OtlpAttribute[]): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue]));
}

const calculator = defineTool({
  name: "calculator",
  description: "Adds two numbers.",
  schema: z.object({ a: z.number(), b: z.number() }),
  run: ({ a, b }) => String(a + b),
});

describe("traces exported over OTLP/HTTP", () => {
  const receiver = otlpReceiver();
  let endpoint = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.server.close(() => resolve())));

  it("sends a run of a ReAct agent with a tool call as one well-formed trace", async () => {
    const provider = createTracerProvider({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "conclave-otlp-test" });
    expect(provider).toBeDefined();
    const events = new RunEvents();
    const detach = attachTracing(events, provider!.tracer);
    const model = scriptedModel().callTools([{ name: "calculator", args: { a: 2, b: 3 }, id: "call_add" }]).reply("2 + 3 = 5");
    const agent = defineAgent({ name: "mathy", instructions: "Add with the calculator.", tools: [calculator], maxSteps: 4 });
    const result = await run(createAgentGraph(agent), { messages: [new HumanMessage("What is 2 + 3?")] }, { events, model, modelInfo: { provider: "openai", name: "gpt-4o-mini", offline: false } });
    detach();
    await provider!.shutdown();

    expect(receiver.requests.every((request) => request.url === "/v1/traces" && request.contentType === "application/json")).toBe(true);
    const resources = receiver.bodies.flatMap((body) => body.resourceSpans);
    expect(resources.every((resource) => attributesOf(resource.resource.attributes)["service.name"] === "conclave-otlp-test")).toBe(true);
    const spans = resources.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
    expect(spans.map((span) => span.name).sort()).toEqual(["chat gpt-4o-mini", "chat gpt-4o-mini", "conclave.run mathy", "execute_tool calculator", "node model", "node model", "node tools"]);

    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    const roots = spans.filter((span) => !span.parentSpanId);
    expect(roots.map((span) => span.name)).toEqual(["conclave.run mathy"]);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    for (const span of spans.filter((item) => item.parentSpanId)) expect(byId.has(span.parentSpanId!), `parent of ${span.name}`).toBe(true);
    const parentName = (span: OtlpSpan) => byId.get(span.parentSpanId!)?.name;

    const chats = spans.filter((span) => span.name === "chat gpt-4o-mini");
    for (const chat of chats) expect(parentName(chat)).toBe("node model");
    const [tool] = spans.filter((span) => span.name === "execute_tool calculator");
    expect(parentName(tool!)).toBe("node tools");
    for (const node of spans.filter((span) => span.name.startsWith("node "))) expect(parentName(node)).toBe("conclave.run mathy");

    expect(attributesOf(roots[0]!.attributes)).toMatchObject({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "mathy",
      "conclave.run_id": result.runId,
      "conclave.thread_id": result.threadId,
      "conclave.status": "done",
    });
    for (const chat of chats) {
      expect(attributesOf(chat.attributes)).toMatchObject({
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.agent.name": "mathy",
        "conclave.run_id": result.runId,
        "conclave.cached": false,
      });
    }
    const answer = chats.map((chat) => attributesOf(chat.attributes)).find((attributes) => attributes["conclave.tool_calls"] === 0)!;
    expect(answer["gen_ai.usage.output_tokens"]).toBe(3);
    expect(attributesOf(tool!.attributes)).toMatchObject({
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "calculator",
      "gen_ai.tool.call.id": "call_add",
      "conclave.output_chars": 1,
    });
  });

  it("is off, and sends nothing, without an endpoint", () => {
    expect(createTracerProvider({})).toBeUndefined();
  });
});
