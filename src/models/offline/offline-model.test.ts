import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "../../tool/define-tool.ts";
import { OfflineChatModel } from "./chat-model.ts";
import { OfflineEmbeddings } from "./embeddings.ts";
import { findArithmetic, sentences } from "./text.ts";

const noop = () => "unused";
const calculatorLike = defineTool({ name: "evaluate_math", description: "Evaluates an arithmetic expression.", schema: z.object({ expr: z.string() }), run: noop });
const searchLike = defineTool({ name: "kb_search", description: "Searches the knowledge base for passages.", schema: z.object({ query: z.string(), limit: z.number().int().min(1) }), run: noop });
const fileLike = defineTool({ name: "open_doc", description: "Reads a file from the workspace.", schema: z.object({ path: z.string() }), run: noop });
const weather = defineTool({ name: "weather", description: "Current weather for a city.", schema: z.object({ city: z.string() }), run: noop });

async function ask(tools: ReturnType<typeof defineTool>[], ...messages: Array<HumanMessage | AIMessage | ToolMessage | SystemMessage>) {
  const model = new OfflineChatModel({});
  return (await model.bindTools(tools).invoke(messages)) as AIMessage;
}

describe("the offline model", () => {
  it("routes an arithmetic request to the tool that describes itself as a calculator, whatever its name", async () => {
    const reply = await ask([searchLike, calculatorLike], new HumanMessage("What is 17 * 23 + 4?"));
    expect(reply.tool_calls).toEqual([expect.objectContaining({ name: "evaluate_math", args: { expr: "17 * 23 + 4" } })]);
  });

  it("sends other requests to a lookup tool with the request as query and required arguments filled", async () => {
    const reply = await ask([calculatorLike, searchLike], new HumanMessage("Who built the first printing press?"));
    expect(reply.tool_calls).toEqual([expect.objectContaining({ name: "kb_search", args: { query: "Who built the first printing press?", limit: 3 } })]);
  });

  it("sends a named file to the file tool and fits user tools by their words", async () => {
    const file = await ask([searchLike, fileLike], new HumanMessage("Summarise notes/plan.md for me"));
    expect(file.tool_calls?.[0]).toMatchObject({ name: "open_doc", args: { path: "notes/plan.md" } });
    const city = await ask([weather], new HumanMessage("What is the weather in Lisbon?"));
    expect(city.tool_calls?.[0]).toMatchObject({ name: "weather", args: { city: "What is the weather in Lisbon?" } });
  });

  it("does not branch on the system prompt or agent wording: same request, same call", async () => {
    const plain = await ask([calculatorLike, searchLike], new HumanMessage("What is 2 + 2?"));
    const dressed = await ask([calculatorLike, searchLike], new SystemMessage("You are the verification agent. Always search."), new HumanMessage("What is 2 + 2?"));
    const strip = (message: AIMessage) => message.tool_calls?.map(({ name, args }) => ({ name, args }));
    expect(strip(dressed)).toEqual(strip(plain));
    expect(strip(plain)).toEqual([{ name: "evaluate_math", args: { expr: "2 + 2" } }]);
  });

  it("answers extractively after observations, citing each sentence's source and quoting numbers exactly", async () => {
    const call = { id: "c1", name: "kb_search", args: { query: "Everest height" }, type: "tool_call" as const };
    const reply = await ask(
      [searchLike],
      new HumanMessage("How tall is Mount Everest?"),
      new AIMessage({ content: "", tool_calls: [call] }),
      new ToolMessage({
        tool_call_id: "c1",
        content: "[everest#1] Mount Everest is 8,848.86 metres tall. It lies on the border of Nepal and China.\n\n[honey#2] Honeybees live in colonies.",
      }),
    );
    expect(reply.tool_calls ?? []).toHaveLength(0);
    expect(reply.text).toContain("Mount Everest is 8,848.86 metres tall. [everest#1]");
    expect(reply.text).not.toContain("Honeybees");
    expect(reply.usage_metadata?.total_tokens).toBeGreaterThan(0);
  });

  it("passes a calculator's uncited result through as the answer", async () => {
    const reply = await ask(
      [calculatorLike],
      new HumanMessage("What is 17 * 23 + 4?"),
      new AIMessage({ content: "", tool_calls: [{ id: "m", name: "evaluate_math", args: { expr: "17 * 23 + 4" }, type: "tool_call" }] }),
      new ToolMessage({ tool_call_id: "m", content: "17 * 23 + 4 = 395" }),
    );
    expect(reply.text).toBe("17 * 23 + 4 = 395.");
  });

  it("says so when the evidence does not answer, and ignores error observations", async () => {
    const reply = await ask(
      [searchLike],
      new HumanMessage("Who painted the Mona Lisa?"),
      new AIMessage({ content: "", tool_calls: [{ id: "e", name: "kb_search", args: {}, type: "tool_call" }] }),
      new ToolMessage({ tool_call_id: "e", status: "error", content: "Error: the index is down" }),
    );
    expect(reply.text).toContain("The tools failed");
    expect(reply.text).toContain("the index is down");
  });

  it("answers from cited passages pasted into the request when it has no tools", async () => {
    const model = new OfflineChatModel({});
    const reply = await model.invoke([new HumanMessage("Where is the Rosetta Stone kept?\n[rosetta#3] The Rosetta Stone has been in the British Museum since 1802.\n[bees#1] Bees make honey.")]);
    expect(reply.text).toBe("The Rosetta Stone has been in the British Museum since 1802. [rosetta#3]");
  });

  it("fills a structured-output schema from the same evidence", async () => {
    const schema = z.object({
      answer: z.string(),
      sources: z.array(z.string()),
      confidence: z.number().min(0).max(1),
      claims: z.array(z.object({ claim: z.string(), source: z.string() })),
      verdict: z.enum(["approve", "revise"]),
    });
    const model = new OfflineChatModel({});
    const structured = model.withStructuredOutput(schema, { name: "final_answer" });
    const parsed = (await structured.invoke([
      new HumanMessage("When was the Magna Carta sealed?"),
      new AIMessage({ content: "", tool_calls: [{ id: "s", name: "kb_search", args: {}, type: "tool_call" }] }),
      new ToolMessage({ tool_call_id: "s", content: "[magna#1] King John sealed the Magna Carta in June 1215 at Runnymede." }),
    ])) as z.infer<typeof schema>;
    expect(schema.safeParse(parsed).success).toBe(true);
    expect(parsed.answer).toContain("1215");
    expect(parsed.sources).toEqual(["magna#1"]);
    expect(parsed.claims).toEqual([{ claim: expect.stringContaining("June 1215"), source: "magna#1" }]);
    expect(parsed.confidence).toBeGreaterThan(0);
  });

  it("is deterministic", async () => {
    const messages = [new HumanMessage("What is 3 * (4 + 5)?")];
    const first = await ask([calculatorLike, searchLike], ...messages);
    const second = await ask([calculatorLike, searchLike], ...messages);
    expect(second.tool_calls).toEqual(first.tool_calls);
  });
});

describe("offline text helpers", () => {
  it("finds the arithmetic in free text", () => {
    expect(findArithmetic("What is 17 * 23 + 4?")).toBe("17 * 23 + 4");
    expect(findArithmetic("Compute 12*(7+5)-3 please")).toBe("12*(7+5)-3");
    expect(findArithmetic("What year did Apollo 11 land?")).toBeUndefined();
  });

  it("keeps initials and decimals inside sentences", () => {
    expect(sentences("It was set by President John F. Kennedy in 1961. Pi is 3.14 roughly. Done!")).toEqual([
      "It was set by President John F. Kennedy in 1961.",
      "Pi is 3.14 roughly.",
      "Done!",
    ]);
  });
});

describe("offline embeddings", () => {
  it("are deterministic, normalised, and closer for texts that share words", async () => {
    const embeddings = new OfflineEmbeddings({ dimensions: 256 });
    const [a, b, c] = await embeddings.embedDocuments(["the moon landing in 1969", "landing on the moon", "bees make honey in hives"]);
    const cosine = (x: number[], y: number[]) => x.reduce((sum, value, index) => sum + value * y[index]!, 0);
    expect(await embeddings.embedQuery("the moon landing in 1969")).toEqual(a);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 6);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.2);
  });
});
