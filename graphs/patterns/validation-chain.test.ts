import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySaver } from "@langchain/langgraph";
import { ConfigSchema, DeadLetterQueue, OfflineChatModel, resume, run } from "conclave";
import { afterEach, describe, expect, it } from "vitest";
import { createInvoiceChain, example } from "./validation-chain.ts";
import type { Vendor } from "./validation-chain.ts";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
function workspace() {
  const cwd = mkdtempSync(join(tmpdir(), "conclave-invoices-"));
  folders.push(cwd);
  return cwd;
}

describe("the validation-chain example on its sample, offline", () => {
  it("accepts the good invoices and rejects each bad one at its stage, into the workspace's dead-letter queue", async () => {
    const cwd = workspace();
    const config = ConfigSchema.parse({});
    const graph = example.build({ config, cwd });
    const { state, runId } = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}) });

    expect(state.results.map((result) => [(result.input as { id: string }).id, result.status, result.stage ?? null])).toEqual([
      ["INV-1001", "accepted", null],
      ["INV-1002", "accepted", null],
      ["INV-1003", "rejected", "schema"],
      ["INV-1004", "rejected", "content"],
      ["INV-1005", "rejected", "rules"],
      ["INV-1006", "rejected", "rules"],
      ["INV-1007", "rejected", "rules"],
      ["INV-1008", "accepted", null],
    ]);
    expect(state.results[2]!.issues?.map((issue) => issue.path)).toEqual(["amount", "date"]);
    expect(state.results[4]!.reasons).toEqual(["vendor-registered: vendor VND-004 (Umbrella Catering) is suspended"]);

    const queue = new DeadLetterQueue({ path: join(cwd, config.stateDir, "dlq.sqlite") });
    try {
      const letters = queue.list("dead");
      expect(letters.map((letter) => (letter.input as { id: string }).id).sort()).toEqual(["INV-1003", "INV-1004", "INV-1005", "INV-1006", "INV-1007"]);
      expect(letters.every((letter) => letter.kind === "batch-item" && letter.graph === "validation-chain" && letter.traceId === runId)).toBe(true);
    } finally {
      queue.close();
    }

    const answer = example.output(state);
    expect(answer.answer.split("\n")[0]).toBe("8 invoices: 3 accepted, 5 rejected.");
    expect(answer.answer).toContain("rejected  INV-1007 (Initech Hardware, 48000 EUR) at rules: purchase-order: 48000 EUR is over 25000 and needs a purchase order");
    expect(answer.details).toMatchObject({ accepted: 3, rejected: 5, rejectedByStage: { schema: 1, content: 1, rules: 3, approval: 0 } });
  });

  it("looks every vendor up through one batched registry call", async () => {
    const calls: string[][] = [];
    const graph = createInvoiceChain({ lookupVendors: (ids) => (calls.push(ids), ids.map((id): Vendor => ({ id, name: "?", status: "active" }))) });
    await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}) });
    // The six invoices that reach the rules ask for their vendors together.
    expect(calls.flat().sort()).toEqual(["VND-001", "VND-002", "VND-002", "VND-003", "VND-004", "VND-005"]);
    expect(calls.length).toBeLessThan(6);
  });

  it("with --approve-answer, waits for sign-off of the invoices from 10,000 and resumes with the decisions", async () => {
    const cwd = workspace();
    const graph = example.build({ config: ConfigSchema.parse({}), cwd, options: { approveAnswer: true } });
    const checkpointer = new MemorySaver();
    const paused = await run(graph, example.input(example.sample!), { model: new OfflineChatModel({}), checkpointer, threadId: "sign-off" });
    expect(paused.status).toBe("interrupted");
    expect(paused.pending.map((approval) => approval.request.summary).sort()).toEqual([
      'pay INV-1002: 12800 EUR to Globex Consulting for "Data-platform consulting, 16 days in February"',
      'pay INV-1008: 30500 GBP to Soylent Logistics for "Warehouse move, Leeds to Manchester"',
    ]);
    const byInvoice = (id: string) => paused.pending.find((approval) => approval.request.summary.startsWith(`pay ${id}:`))!.interruptId;
    const done = await resume(graph, { checkpointer, threadId: "sign-off", model: new OfflineChatModel({}), decisions: { [byInvoice("INV-1002")]: { decision: "approve", actor: "ana" }, [byInvoice("INV-1008")]: { decision: "reject", reason: "move not booked", actor: "ana" } } });
    expect(done.state.results[1]).toMatchObject({ status: "accepted", approvedBy: "ana" });
    expect(done.state.results[7]).toMatchObject({ status: "rejected", stage: "approval", reasons: ["rejected by ana: move not booked"] });
  });
});
