import { describe, expect, it, vi } from "vitest";
import { MemoryIdempotencyStore, WebhookInbox } from "./inbound.ts";

const event = { id: "msg_1", payload: { type: "order.paid", data: { orderId: "o-42" } } };

describe("WebhookInbox (memory)", () => {
  it("starts one run for a redelivered event and returns its id again", async () => {
    const inbox = new WebhookInbox({ store: new MemoryIdempotencyStore() });
    const start = vi.fn(async () => "run-1");
    expect(await inbox.accept(event, start)).toEqual({ runId: "run-1", duplicate: false });
    expect(await inbox.accept(event, start)).toEqual({ runId: "run-1", duplicate: true });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await inbox.accept({ ...event, id: "msg_2" }, async () => "run-2")).toEqual({ runId: "run-2", duplicate: false });
  });

  it("lets concurrent deliveries share the one run being started", async () => {
    const inbox = new WebhookInbox({ store: new MemoryIdempotencyStore(), pollMs: 5 });
    let finish: (runId: string) => void = () => undefined;
    const start = vi.fn(() => new Promise<string>((resolve) => (finish = resolve)));
    const first = inbox.accept(event, start);
    const second = inbox.accept(event, start);
    await new Promise((resolve) => setTimeout(resolve, 20));
    finish("run-slow");
    expect(await Promise.all([first, second])).toEqual([{ runId: "run-slow", duplicate: false }, { runId: "run-slow", duplicate: true }]);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it("keys by a payload field when asked, so resent events with new ids still dedupe", async () => {
    const inbox = new WebhookInbox({ store: new MemoryIdempotencyStore(), keyField: "data.orderId" });
    const start = vi.fn(async () => "run-o42");
    await inbox.accept(event, start);
    expect(await inbox.accept({ ...event, id: "msg_resent" }, start)).toEqual({ runId: "run-o42", duplicate: true });
    expect(start).toHaveBeenCalledTimes(1);
    expect(() => inbox.keyOf({ id: "msg_3", payload: { data: {} } })).toThrow(/no "data.orderId"/);
  });

  it("lets a redelivery retry when the first start failed", async () => {
    const inbox = new WebhookInbox({ store: new MemoryIdempotencyStore() });
    await expect(inbox.accept(event, async () => Promise.reject(new Error("queue down")))).rejects.toThrow("queue down");
    expect(await inbox.accept(event, async () => "run-2")).toEqual({ runId: "run-2", duplicate: false });
  });

  it("forgets keys after their ttl", async () => {
    let now = 0;
    const inbox = new WebhookInbox({ store: new MemoryIdempotencyStore(() => now), ttlMs: 1_000 });
    await inbox.accept(event, async () => "run-1");
    now = 1_000;
    expect(await inbox.accept(event, async () => "run-2")).toEqual({ runId: "run-2", duplicate: false });
  });

  it("lets a redelivery start the run when the server that claimed it died before storing a run id", async () => {
    let now = 0;
    const store = new MemoryIdempotencyStore(() => now);
    const inbox = new WebhookInbox({ store, claimTtlMs: 1_000, waitMs: 10, pollMs: 1 });
    await store.claim("msg_1", "pending:dead-server", 1_000);
    await expect(inbox.accept(event, async () => "run-x")).rejects.toMatchObject({ code: "WEBHOOK_RUN_PENDING" });
    now = 1_000;
    expect(await inbox.accept(event, async () => "run-2")).toEqual({ runId: "run-2", duplicate: false });
    now = 2_000; // the stored run id lasts the full ttl, not the claim's
    expect(await inbox.accept(event, async () => "run-3")).toEqual({ runId: "run-2", duplicate: true });
  });
});
