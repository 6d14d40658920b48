import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { ConfigSchema, DeadLetterQueue, resume, run } from "conclave";
import { createDocumentProcessor, example } from "./document-processor.ts";

const INVOICE = new URL("./samples/documents/invoice-2026-114.md", import.meta.url).pathname;
const NOTE = new URL("./samples/documents/note-unclear.md", import.meta.url).pathname;

function processor(onEvent?: (event: { kind: string }) => void) {
  const cwd = mkdtempSync(join(tmpdir(), "conclave-documents-"));
  const graph = createDocumentProcessor({ config: ConfigSchema.parse({}), cwd }, onEvent ? { onEvent } : {});
  return { cwd, graph };
}

describe("the enterprise document processor", () => {
  it("files the sample invoice offline: policy context, four analyses, insights, validation, no review needed, a stored record and events", async () => {
    const kinds: string[] = [];
    const { graph } = processor((event) => kinds.push(event.kind));
    const { state, status } = await run(graph, example.input(INVOICE));
    expect(status).toBe("done");
    expect(state.context.map((passage) => passage.documentId)).toContain("approved-suppliers");
    expect(state.analysis?.classification.label).toBe("invoice");
    expect(state.analysis?.classification.confidence).toBeGreaterThanOrEqual(0.85);
    expect(state.analysis?.metadata.amounts.map((amount) => amount.value)).toEqual([95, 3800, 1200, 5000]);
    expect(state.analysis?.entities).toEqual(expect.arrayContaining(["Northwind Traders Ltd", "Contoso Research GmbH"]));
    expect(state.analysis?.summary).toContain("Northwind Traders Ltd");
    expect(state.analysis?.failed).toEqual([]);
    expect(state.insights?.plan.length).toBeGreaterThan(0);
    expect(state.validation?.status).toBe("accepted");
    expect(state.review?.decision).toBe("not needed");
    expect(state.stored?.status).toBe("filed");
    expect(JSON.parse(readFileSync(state.stored!.path, "utf8"))).toMatchObject({ status: "filed", analysis: { classification: { label: "invoice" } } });
    expect(kinds).toEqual(["classified", "validated", "filed"]);
  });

  it("asks a person when the classification is less than 0.85 sure, and files it as they say", async () => {
    const { graph } = processor();
    const checkpointer = new MemorySaver();
    const paused = await run(graph, example.input(NOTE), { checkpointer, threadId: "doc-1" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending[0]!.request.summary).toContain('file note-unclear as "note" (confidence 0.5, below 0.85)');
    const done = await resume(graph, { checkpointer, threadId: "doc-1", decisions: { decision: "edit", edit: "report", actor: "dana" } });
    expect(done.state.review).toMatchObject({ decision: "edited", by: "dana" });
    expect(done.state.analysis?.classification).toMatchObject({ label: "report", confidence: 1 });
    expect(done.state.stored?.status).toBe("filed");
  });

  it("rejects a document that breaks a business rule, keeps it in the dead-letter queue and stores it as rejected", async () => {
    const { cwd, graph } = processor();
    const bad = join(cwd, "free-invoice.md");
    writeFileSync(bad, "# Invoice INV-2026-999\n\nInvoice from Northwind Traders Ltd. Payment is due by 1 May 2026. The invoice total is 0.00 EUR, VAT excluded, payable by bank transfer.\n");
    const { state } = await run(graph, example.input(bad));
    expect(state.validation).toMatchObject({ status: "rejected", stage: "rules" });
    expect(state.validation?.reasons).toEqual(["amounts-positive: an amount is zero or negative"]);
    expect(state.stored?.status).toBe("rejected");
    const queue = new DeadLetterQueue({ path: join(cwd, ".conclave/dlq.sqlite") });
    try {
      expect(queue.list().map((letter) => letter.kind)).toEqual(["batch-item"]);
    } finally {
      queue.close();
    }
    expect(existsSync(state.stored!.path)).toBe(true);
  });
});
