import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { isConclaveError } from "../errors.ts";
import { modelRequestKey } from "../resilience/cache/keys.ts";
import { scriptedModel } from "../testing/scripted-model.ts";
import { V1_BASIC_KEY_INPUT, V1_BASIC_MESSAGES, V1_BASIC_TOOL } from "../../test/fixtures/cassettes/generate-v1-basic.ts";
import { Cassette, CASSETTE_VERSION, CassetteDriftError, CassetteFormatError, summarizeRequest } from "./index.ts";
import type { ModelRequestInfo } from "./index.ts";

const fixtures = fileURLToPath(new URL("../../test/fixtures/cassettes/", import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "conclave-cassette-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function request(text: string, extra: Partial<ModelRequestInfo> = {}): ModelRequestInfo {
  const messages = [new HumanMessage(text)];
  return { key: modelRequestKey({ provider: "offline", model: "scripted", messages }), model: "scripted", agent: "writer", node: "writer", summary: summarizeRequest(messages), ...extra };
}

function answer(content: string, id = "msg-1"): AIMessage {
  return new AIMessage({
    id,
    content,
    tool_calls: [{ id: "call_1", name: "search", args: { query: content }, type: "tool_call" }],
    usage_metadata: { input_tokens: 12, output_tokens: 5, total_tokens: 17 },
    response_metadata: { model_name: "scripted", finish_reason: "tool_calls", system_fingerprint: "fp_1" },
  });
}

const never = () => Promise.reject(new Error("replay must not call the model or tool"));

describe("Cassette record and replay", () => {
  it("replays model outputs, structured outputs and tool outputs as recorded, without calling", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path, { graph: "research", model: { provider: "offline", name: "scripted", offline: true } });
    const recorded = answer("draft");
    const structured = { raw: answer("", "msg-2"), parsed: { verdict: "approve", score: 0.9 } };
    expect((await recorder.model(request("write"), async () => recorded)).content).toBe("draft");
    await recorder.model(request("judge"), async () => structured);
    await recorder.tool({ tool: "search", args: { query: "draft" }, agent: "writer" }, async () => ({ content: "3 results", status: "success" }));
    recorder.save();

    const replay = Cassette.load(path);
    expect(replay.mode).toBe("replay");
    expect(replay.meta.graph).toBe("research");
    const call = vi.fn(never);
    const message = await replay.model<AIMessage>(request("write"), call);
    expect(message).toBeInstanceOf(AIMessage);
    expect(message.content).toBe("draft");
    expect(message.tool_calls).toEqual(recorded.tool_calls);
    expect(message.usage_metadata).toEqual(recorded.usage_metadata);
    const judged = await replay.model<{ raw: AIMessage; parsed: unknown }>(request("judge"), call);
    expect(judged.raw).toBeInstanceOf(AIMessage);
    expect(judged.parsed).toEqual(structured.parsed);
    expect(await replay.tool({ tool: "search", args: { query: "draft" } }, call)).toEqual({ content: "3 results", status: "success" });
    expect(call).not.toHaveBeenCalled();
    expect(replay.unused()).toEqual([]);
  });

  it("replays an AIMessage with the same id and response_metadata, so outputs are byte-identical", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path);
    const recorded = answer("final answer", "chatcmpl-42");
    const live = await recorder.model(request("write"), async () => recorded);
    recorder.save();
    const replayed = await Cassette.load(path).model<AIMessage>(request("write"), never);
    expect(replayed.id).toBe("chatcmpl-42");
    expect(replayed.response_metadata).toEqual(recorded.response_metadata);
    expect(replayed.usage_metadata).toEqual(recorded.usage_metadata);
    // The recording run gets the message rebuilt as a replay rebuilds it, so even key order matches.
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(live));
    expect(JSON.parse(JSON.stringify(replayed))).toEqual(JSON.parse(JSON.stringify(recorded)));
  });

  it("replays a chat model's own outputs, plain and withStructuredOutput({ includeRaw }), as the recording run saw them", async () => {
    const path = join(dir, "run.json");
    const model = scriptedModel().reply("hello there").answer({ verdict: "approve" });
    const structured: { invoke(input: HumanMessage[]): Promise<{ raw: AIMessage; parsed: unknown }> } = model.withStructuredOutput(z.object({ verdict: z.string() }), { name: "final_answer", includeRaw: true });
    const recorder = Cassette.recorder(path);
    const live = await recorder.model(request("greet"), () => model.invoke([new HumanMessage("greet")]));
    const liveStructured = await recorder.model(request("judge"), () => structured.invoke([new HumanMessage("judge")]));
    recorder.save();
    const replay = Cassette.load(path);
    const replayed = await replay.model<AIMessage>(request("greet"), never);
    const replayedStructured = await replay.model<{ raw: AIMessage; parsed: unknown }>(request("judge"), never);
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(live));
    expect(replayed.usage_metadata).toEqual(live.usage_metadata);
    expect(JSON.stringify(replayedStructured)).toBe(JSON.stringify(liveStructured));
    expect(replayedStructured.parsed).toEqual({ verdict: "approve" });
  });

  it("gives the n-th request with a key the n-th recording with that key, while different keys may come in any order", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path);
    await recorder.model(request("same"), async () => answer("first"));
    await recorder.model(request("other"), async () => answer("other"));
    await recorder.model(request("same"), async () => answer("second"));
    recorder.save();
    const replay = Cassette.load(path);
    const [a, b, c] = await Promise.all([replay.model<AIMessage>(request("same"), never), replay.model<AIMessage>(request("same"), never), replay.model<AIMessage>(request("other"), never)]);
    expect([a.content, b.content, c.content]).toEqual(["first", "second", "other"]);
    const again = await replay.model<AIMessage>(request("same"), never).catch((error: unknown) => error);
    expect(again).toBeInstanceOf(CassetteDriftError);
    expect((again as CassetteDriftError).message).toContain("request 4 of this replay");
    expect((again as CassetteDriftError).message).toContain("already replayed");
  });

  it("names the drifted request, the closest unused recording, where they differ, and the fix", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path);
    await recorder.model(request("Plan the essay"), async () => answer("plan"));
    await recorder.model(request("Summarise the findings on topic A", { agent: "critic", node: "critic" }), async () => answer("a"));
    await recorder.model(request("Summarise the findings on topic B"), async () => answer("b"));
    recorder.save();
    const replay = Cassette.load(path);
    await replay.model<AIMessage>(request("Plan the essay"), never);
    const error = await replay.model<AIMessage>(request("Summarise the findings on topic C", { round: 2 }), never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CassetteDriftError);
    const drift = error as CassetteDriftError;
    expect(drift.code).toBe("CASSETTE_DRIFT");
    expect(drift.category).toBe("user");
    expect(isConclaveError(drift)).toBe(true);
    expect(drift.message).toContain(path);
    expect(drift.message).toContain('request 2 of this replay: model call to "scripted" by agent "writer" at node "writer" (round 2)');
    expect(drift.message).toContain("user: Summarise the findings on topic C");
    // Same agent and node beats file order: the writer's recording, not the critic's.
    expect(drift.message).toContain("closest unused recording (entry 3 of the file)");
    expect(drift.message).toContain("recording: user: Summarise the findings on topic B");
    expect(drift.message).toContain("summaries differ at character 38");
    expect(drift.message).toContain(`The prompt, model or tools changed since the cassette was recorded; record it again with --record ${path}.`);
    expect(drift.drift).toMatchObject({ position: 2, exhausted: false, request: { kind: "model", target: "scripted", agent: "writer", round: 2 }, closest: { entry: 3, agent: "writer" } });
    expect(drift.details.position).toBe(2);
    expect(replay.unused().map((entry) => entry.summary)).toEqual([
      'model call to "scripted" by agent "critic" at node "critic": user: Summarise the findings on topic A',
      'model call to "scripted" by agent "writer" at node "writer": user: Summarise the findings on topic B',
    ]);
  });

  it("shows a drifted tool call's args next to the closest recording's", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path);
    await recorder.tool({ tool: "search", args: { query: "cats" }, agent: "writer", node: "tools" }, async () => ({ content: "cats!", status: "success" }));
    recorder.save();
    const error = await Cassette.load(path).tool({ tool: "search", args: { query: "dogs" }, agent: "writer", node: "tools" }, never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CassetteDriftError);
    expect((error as Error).message).toContain('tool call "search" by agent "writer" at node "tools"');
    expect((error as Error).message).toContain('args differ: {"query":"dogs"} vs recorded {"query":"cats"}');
  });

  it("records only calls that finished, and a tool's error status as it was", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path);
    await expect(recorder.model(request("flaky"), () => Promise.reject(new Error("503")))).rejects.toThrow("503");
    await recorder.model(request("flaky"), async () => answer("ok"));
    await recorder.tool({ tool: "fetch", args: { url: "x" } }, async () => ({ content: "Error: 404", status: "error" }));
    await expect(recorder.model(request("parsed"), async () => ({ verdict: "approve" }))).rejects.toThrow(/neither an AIMessage/);
    recorder.save();
    const file = JSON.parse(readFileSync(path, "utf8")) as { version: number; entries: unknown[] };
    expect(file.version).toBe(CASSETTE_VERSION);
    expect(file.entries).toHaveLength(2);
    const replay = Cassette.load(path);
    expect((await replay.model<AIMessage>(request("flaky"), never)).content).toBe("ok");
    expect(await replay.tool({ tool: "fetch", args: { url: "x" } }, never)).toEqual({ content: "Error: 404", status: "error" });
  });

  it("applies redact to the written file", async () => {
    const path = join(dir, "run.json");
    const canary = "sk-canary-0123456789";
    const recorder = Cassette.recorder(path, { task: `use key ${canary}` }, { redact: (text) => text.replaceAll(canary, "[redacted]") });
    await recorder.model(request(`the key is ${canary}`), async () => answer(`echo ${canary}`));
    recorder.save();
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(canary);
    expect(text).toContain("[redacted]");
    expect(Cassette.load(path).meta.task).toBe("use key [redacted]");
  });

  it("refuses a redact that breaks the JSON, and writes nothing", async () => {
    const path = join(dir, "run.json");
    const recorder = Cassette.recorder(path, {}, { redact: (text) => text.replaceAll('"', "") });
    expect(() => recorder.save()).toThrow(CassetteFormatError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("saves atomically: the file is replaced whole and no temporary file is left", async () => {
    const path = join(dir, "nested", "run.json");
    const recorder = Cassette.recorder(path);
    await recorder.model(request("one"), async () => answer("one"));
    recorder.save();
    await recorder.model(request("two"), async () => answer("two"));
    recorder.save();
    expect(readdirSync(join(dir, "nested"))).toEqual(["run.json"]);
    expect(Cassette.load(path).unused()).toHaveLength(2);
    Cassette.load(path).save(); // replay: a no-op
    expect(readdirSync(join(dir, "nested"))).toEqual(["run.json"]);
  });
});

describe("Cassette files", () => {
  it("loads and replays the historical v1 fixture", async () => {
    const cassette = Cassette.load(join(fixtures, "v1-basic.json"));
    expect(cassette.meta).toMatchObject({ graph: "research", model: { provider: "offline", name: "scripted", offline: true } });
    const message = await cassette.model<AIMessage>({ key: modelRequestKey(V1_BASIC_KEY_INPUT), model: "scripted", agent: "researcher", node: "researcher", summary: summarizeRequest(V1_BASIC_MESSAGES) }, never);
    expect(message).toBeInstanceOf(AIMessage);
    expect(message.id).toBe("msg-fixture-1");
    expect(message.tool_calls).toEqual([{ id: "call_1", name: "search", args: V1_BASIC_TOOL.args, type: "tool_call" }]);
    expect(message.usage_metadata).toEqual({ input_tokens: 21, output_tokens: 9, total_tokens: 30 });
    expect(await cassette.tool(V1_BASIC_TOOL, never)).toEqual({ content: "100 °C (212 °F) at 1 atm.", status: "success" });
    expect(cassette.unused()).toEqual([]);
  });

  it.each([
    ["not-json.json", /is not valid JSON/],
    ["unknown-version.json", /has format version 99, and this Conclave reads version 1\. It was written by a newer Conclave/],
    ["missing-entries.json", /not a valid version 1 cassette — entries: /],
    ["bad-entry.json", /not a valid version 1 cassette — entries\[0\]\.output\.message\.type: /],
  ])("rejects negative/%s with CassetteFormatError naming the problem", (name, problem) => {
    const path = join(fixtures, "negative", name);
    const error = (() => {
      try {
        Cassette.load(path);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CassetteFormatError);
    expect((error as CassetteFormatError).code).toBe("CASSETTE_INVALID");
    expect((error as Error).message).toContain(`Cannot replay cassette ${path}:`);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toContain(`it again with --record ${path}.`);
  });

  it("rejects a missing file, saying how to make one", () => {
    expect(() => Cassette.load(join(dir, "absent.json"))).toThrow(/absent\.json: the file does not exist\. Check the path, or record a cassette there with --record .*absent\.json\./);
    expect(existsSync(join(dir, "absent.json"))).toBe(false);
  });
});

describe("summarizeRequest", () => {
  it("gives the last message's role and its first 200 characters", () => {
    expect(summarizeRequest([new HumanMessage("hello"), new AIMessage({ content: "", tool_calls: [{ id: "1", name: "search", args: {} }] })])).toBe("assistant: [tool calls: search]");
    expect(summarizeRequest([{ role: "user", content: [{ type: "text", text: "look" }, { type: "image_url" }] }])).toBe("user: look [image_url]");
    expect(summarizeRequest([new HumanMessage("x".repeat(300))])).toBe(`user: ${"x".repeat(200)}…`);
    expect(summarizeRequest([])).toBe("(no messages)");
  });
});
