import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { RunEvents, observeModelCall, resume, run } from "../index.ts";
import type { ConclaveEvent } from "../index.ts";
import { DeadLetterQueue } from "../resilience/dead-letters.ts";
import { scriptedModel } from "../testing/index.ts";
import { createValidationChain } from "./validation-chain.ts";
import type { ValidationCheckContext } from "./validation-chain.ts";

const Invoice = z.object({ id: z.string().min(1), amount: z.number().positive(), vendor: z.string() });
type Invoice = z.infer<typeof Invoice>;

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});
function tempDlq() {
  const folder = mkdtempSync(join(tmpdir(), "conclave-validation-"));
  folders.push(folder);
  return join(folder, "dlq.sqlite");
}

function decisions(events: RunEvents) {
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return () => seen.flatMap((event) => (event.type === "decision" ? [event.reason] : []));
}

describe("validation chain", () => {
  it("rejects an item that fails the schema at stage 'schema' with zod's issues; it never reaches the content checks or rules", async () => {
    const content = vi.fn((_invoice: Invoice) => undefined);
    const rule = vi.fn((_invoice: Invoice) => undefined);
    const chain = createValidationChain({ schema: Invoice, content: [{ name: "clean", check: content }], rules: [{ name: "limit", check: rule }] });
    const { state } = await run(chain, { items: [{ id: "a", amount: 10, vendor: "acme" }, { id: "", amount: -5, vendor: "acme" }] });

    expect(state.results.map((result) => [result.index, result.status, result.stage])).toEqual([[0, "accepted", undefined], [1, "rejected", "schema"]]);
    const rejected = state.results[1]!;
    expect(rejected.issues).toEqual([
      { path: "id", code: "too_small", message: expect.stringMatching(/>=1 characters/) },
      { path: "amount", code: "too_small", message: expect.stringMatching(/>0/) },
    ]);
    expect(rejected.reasons).toEqual([expect.stringMatching(/^id: /), expect.stringMatching(/^amount: /)]);
    // Only the valid item was checked and ruled on.
    expect(content.mock.calls.map(([invoice]) => invoice.id)).toEqual(["a"]);
    expect(rule.mock.calls.map(([invoice]) => invoice.id)).toEqual(["a"]);
    expect(state.results[0]!.value).toEqual({ id: "a", amount: 10, vendor: "acme" });
  });

  it("rejects an item that breaks a business rule at stage 'rules' with the rule's reason, after the content checks passed", async () => {
    const events = new RunEvents();
    const reasons = decisions(events);
    const chain = createValidationChain({
      name: "invoices",
      schema: Invoice,
      content: [{ name: "no-email", check: (invoice) => (/@/.test(invoice.vendor) ? "the vendor name holds an email address" : undefined) }],
      rules: [
        { name: "limit", check: (invoice) => (invoice.amount > 1000 ? `amount ${invoice.amount} is over the 1000 limit` : undefined) },
        { name: "vendor", check: (invoice) => (invoice.vendor === "acme" ? undefined : [`"${invoice.vendor}" is not an approved vendor`]) },
      ],
    });
    const { state } = await run(chain, { items: [{ id: "1", amount: 5000, vendor: "acme" }, { id: "2", amount: 50, vendor: "bob@example.com" }, { id: "3", amount: 2000, vendor: "globex" }] }, { events });

    expect(state.results.map(({ index, stage, reasons }) => ({ index, stage, reasons }))).toEqual([
      { index: 0, stage: "rules", reasons: ["limit: amount 5000 is over the 1000 limit"] },
      { index: 1, stage: "content", reasons: ["no-email: the vendor name holds an email address"] },
      // Every rule runs, so the item carries every reason it fails.
      { index: 2, stage: "rules", reasons: ["limit: amount 2000 is over the 1000 limit", 'vendor: "globex" is not an approved vendor'] },
    ]);
    expect(reasons()).toContain("item 1 rejected at rules: limit: amount 5000 is over the 1000 limit");
  });

  it("keeps rejected items in a real SQLite dead-letter queue with their stage and reasons", async () => {
    const path = tempDlq();
    const chain = createValidationChain({
      name: "invoices",
      schema: Invoice,
      rules: [{ name: "limit", check: (invoice) => (invoice.amount > 1000 ? "over the limit" : undefined) }],
      // Opened on the first rejection: building the graph touches no file.
      deadLetters: () => new DeadLetterQueue({ path }),
    });
    const items = [{ id: "ok", amount: 1, vendor: "acme" }, { id: "big", amount: 5000, vendor: "acme" }, { amount: "12" }];
    const { state, runId } = await run(chain, { items });

    const queue = new DeadLetterQueue({ path });
    try {
      const letters = queue.list("dead");
      expect(letters).toHaveLength(2);
      const byIndex = new Map(letters.map((letter) => [letter.options.index, letter]));
      expect(byIndex.get(1)).toMatchObject({ kind: "batch-item", graph: "invoices", input: items[1], options: { stage: "rules", reasons: ["limit: over the limit"] }, error: { code: "VALIDATION_REJECTED", message: "Rejected at rules: limit: over the limit", category: "user" }, attempts: 1, traceId: runId });
      expect(byIndex.get(2)).toMatchObject({ input: { amount: "12" }, options: { stage: "schema", issues: expect.arrayContaining([expect.objectContaining({ path: "id" }), expect.objectContaining({ path: "amount" })]) } });
      expect(state.results.filter((result) => result.deadLetterId).map((result) => result.deadLetterId).sort()).toEqual(letters.map((letter) => letter.id).sort());
    } finally {
      queue.close();
    }
  });

  it("pauses each item that needs approval, and resumes with approve, edit or reject per item", async () => {
    const path = tempDlq();
    const checkpointer = new MemorySaver();
    const chain = createValidationChain({ name: "invoices", schema: Invoice, approval: (invoice) => invoice.amount >= 1000, summarize: (invoice) => `pay ${invoice.amount} to ${invoice.vendor}`, deadLetters: new DeadLetterQueue({ path }) });
    const items = [{ id: "small", amount: 10, vendor: "acme" }, { id: "a", amount: 1000, vendor: "acme" }, { id: "b", amount: 2000, vendor: "globex" }, { id: "c", amount: 3000, vendor: "initech" }];
    const paused = await run(chain, { items }, { checkpointer, threadId: "approvals" });

    expect(paused.status).toBe("interrupted");
    expect(paused.pending.map((approval) => approval.request)).toEqual(
      expect.arrayContaining([
        { type: "conclave.approval", kind: "tool", tool: "invoices", args: items[1], summary: "pay 1000 to acme" },
        { type: "conclave.approval", kind: "tool", tool: "invoices", args: items[2], summary: "pay 2000 to globex" },
        { type: "conclave.approval", kind: "tool", tool: "invoices", args: items[3], summary: "pay 3000 to initech" },
      ]),
    );
    const idOf = (vendor: string) => paused.pending.find((approval) => approval.request.summary.endsWith(vendor))!.interruptId;
    const done = await resume(chain, {
      checkpointer,
      threadId: "approvals",
      decisions: {
        [idOf("acme")]: { decision: "approve", actor: "ana" },
        [idOf("globex")]: { decision: "edit", edit: { id: "b", amount: 1500, vendor: "globex" }, actor: "ben" },
        [idOf("initech")]: { decision: "reject", reason: "duplicate of c-1", actor: "ana" },
      },
    });

    expect(done.status).toBe("done");
    expect(done.state.results.map(({ index, status, stage, approvedBy, value }) => ({ index, status, stage, approvedBy, value }))).toEqual([
      { index: 0, status: "accepted", stage: undefined, approvedBy: undefined, value: items[0] },
      { index: 1, status: "accepted", stage: undefined, approvedBy: "ana", value: items[1] },
      { index: 2, status: "accepted", stage: undefined, approvedBy: "ben", value: { id: "b", amount: 1500, vendor: "globex" } },
      { index: 3, status: "rejected", stage: "approval", approvedBy: undefined, value: undefined },
    ]);
    expect(done.state.results[3]!.reasons).toEqual(["rejected by ana: duplicate of c-1"]);
    const queue = new DeadLetterQueue({ path });
    expect(queue.list().map((letter) => letter.options)).toEqual([{ index: 3, stage: "approval", reasons: ["rejected by ana: duplicate of c-1"] }]);
    queue.close();
  });

  it("rejects an approver's edit that no longer matches the schema", async () => {
    const checkpointer = new MemorySaver();
    const chain = createValidationChain({ schema: Invoice, approval: "always" });
    await run(chain, { items: [{ id: "a", amount: 5, vendor: "acme" }] }, { checkpointer, threadId: "bad-edit" });
    const done = await resume(chain, { checkpointer, threadId: "bad-edit", decisions: { decision: "edit", edit: { id: "a", amount: -1, vendor: "acme" }, actor: "ana" } });
    expect(done.state.results[0]).toMatchObject({ status: "rejected", stage: "approval", issues: [expect.objectContaining({ path: "amount" })] });
    expect(done.state.results[0]!.reasons[0]).toMatch(/^the edit by ana does not match the schema: amount: /);
  });

  it("rejects only the item whose check throws, and lets content checks call a model inside the run", async () => {
    const model = scriptedModel().reply("clean").reply("spam");
    const judged = async (invoice: Invoice, { config }: ValidationCheckContext) => {
      const messages = [new HumanMessage(`Is this invoice line spam? ${invoice.vendor}`)];
      const answer = await observeModelCall(config, { model: "scripted", messageCount: 1 }, () => model.invoke(messages));
      return answer.text === "spam" ? "looks like spam" : undefined;
    };
    const chain = createValidationChain({
      schema: Invoice,
      content: [{ name: "spam", check: judged }],
      rules: [{ name: "lookup", check: (invoice) => { if (invoice.vendor === "down") throw new Error("vendor registry unreachable"); return undefined; } }],
    });
    // Sequential items would make the scripted replies' order depend on scheduling; one item per run keeps it exact.
    const first = await run(chain, { items: [{ id: "1", amount: 1, vendor: "down" }] });
    const second = await run(chain, { items: [{ id: "2", amount: 1, vendor: "acme" }] });
    expect(first.state.results[0]).toMatchObject({ status: "rejected", stage: "rules", reasons: ["lookup could not check the item: vendor registry unreachable"] });
    expect(second.state.results[0]).toMatchObject({ status: "rejected", stage: "content", reasons: ["spam: looks like spam"] });
    expect([first.usage.modelCalls, second.usage.modelCalls]).toEqual([1, 1]);
  });

  it("ends at once for an empty batch, and refuses a malformed definition", async () => {
    const { state } = await run(createValidationChain({ schema: Invoice }), { items: [] });
    expect(state.results).toEqual([]);
    expect(() => createValidationChain({ schema: { parse: () => 1 } as never })).toThrow(DefinitionError);
    expect(() => createValidationChain({ schema: Invoice, rules: [{ name: "x" } as never] })).toThrow(/rules\[0\]\.check|must be a function/);
  });
});
