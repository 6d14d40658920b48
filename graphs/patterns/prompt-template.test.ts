import { ConfigSchema, OfflineChatModel, OfflineEmbeddings, PromptVariablesError, run } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { EXAMPLES, createTicketClassifier, example } from "./prompt-template.ts";

describe("the prompt-template example on its sample, offline", () => {
  it("labels the sample ticket billing; the offline model names no label, so the nearest example decides and says so", async () => {
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { state, usage } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}) });
    expect(state).toMatchObject({ label: "billing", decidedBy: "nearest example" });
    expect(state.reason).toMatch(/^the model's reply named no label; the most similar example, "I was charged twice for my subscription this month\." \(similarity 0\.\d\d\), is billing$/);
    expect(usage.modelCalls).toBe(1);
    expect(example.output(state).answer.startsWith("billing (nearest example: ")).toBe(true);
  });

  it("sends the system message, the eight examples as turns in order, then the ticket; a reply naming one label decides", async () => {
    const model = scriptedModel().reply("bug");
    const graph = createTicketClassifier({ embeddings: new OfflineEmbeddings() });
    const { state } = await run(graph, { ticket: "Saving a draft shows error 500." }, { model });
    expect(state).toMatchObject({ label: "bug", decidedBy: "model", reply: "bug" });
    const request = model.requests[0]!;
    expect(request).toHaveLength(1 + EXAMPLES.length * 2 + 1);
    expect(request[0]).toMatchObject({ role: "system", content: expect.stringContaining("Answer with exactly one label: billing, bug, account, other.") });
    expect(request.slice(1, -1)).toEqual(EXAMPLES.flatMap((labelled) => [{ role: "user", content: `Ticket: ${labelled.ticket}` }, { role: "assistant", content: labelled.label }]));
    expect(request.at(-1)).toEqual({ role: "user", content: "Ticket: Saving a draft shows error 500." });
  });

  it("retries the examples' embeddings after a failed call instead of caching the failure", async () => {
    class FlakyEmbeddings extends OfflineEmbeddings {
      calls = 0;
      override async embedDocuments(documents: string[]): Promise<number[][]> {
        if (++this.calls === 1) throw new Error("embeddings endpoint unavailable");
        return super.embedDocuments(documents);
      }
    }
    const embeddings = new FlakyEmbeddings();
    const graph = createTicketClassifier({ embeddings });
    const ticket = example.sample!;
    await expect(run(graph, { ticket }, { model: new OfflineChatModel({}) })).rejects.toThrow(/embeddings endpoint unavailable/);
    const { state } = await run(graph, { ticket }, { model: new OfflineChatModel({}) });
    expect(state).toMatchObject({ label: "billing", decidedBy: "nearest example" });
    expect(embeddings.calls).toBe(2);
    // Once they arrive the vectors are cached: a third run embeds only its query.
    await run(graph, { ticket }, { model: new OfflineChatModel({}) });
    expect(embeddings.calls).toBe(2);
  });

  it("refuses an empty ticket with the prompt's variables error", async () => {
    const graph = createTicketClassifier({ embeddings: new OfflineEmbeddings() });
    await expect(run(graph, { ticket: "   " }, { model: new OfflineChatModel({}) })).rejects.toThrow(PromptVariablesError);
  });
});
