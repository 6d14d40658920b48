import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { RedisIdempotencyStore, WebhookInbox } from "./inbound.ts";
import { RedisReplayCache } from "./replay.ts";
import { signWebhook } from "./sign.ts";
import { verifyWebhook } from "./verify.ts";

const url = process.env.REDIS_URL ?? "";
// Every run writes under its own prefix, so tests never touch anyone else's keys.
const prefix = `conclave-test:${randomUUID()}:`;

describe.skipIf(!url)("webhooks on Redis (needs REDIS_URL, e.g. redis://127.0.0.1:6379)", () => {
  const client = url ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  afterAll(async () => {
    if (!client) return;
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await client.quit();
  });

  it("rejects a replayed id across verifiers sharing one Redis, and expires ids", async () => {
    const secret = "a-shared-secret-of-32-bytes-long";
    const body = JSON.stringify({ type: "run-end" });
    const timestamp = Math.floor(Date.now() / 1_000);
    const request = { id: "msg_r1", timestamp: String(timestamp), body, signatures: signWebhook({ id: "msg_r1", timestamp, body }, secret) };
    const cache = () => new RedisReplayCache({ client: client!, keyPrefix: `${prefix}seen:` });
    await expect(verifyWebhook(request, { secrets: [secret], replayCache: cache() })).resolves.toMatchObject({ id: "msg_r1" });
    await expect(verifyWebhook(request, { secrets: [secret], replayCache: cache() })).rejects.toMatchObject({ reason: "replay" });
    expect(await cache().seen("msg_r1")).toBe(true);
    expect(await client!.pttl(`${prefix}seen:msg_r1`)).toBeGreaterThan(590_000); // 2 × 300 s tolerance
    expect(await cache().remember("short", 20)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await cache().seen("short")).toBe(false);
  });

  it("starts no second run for a redelivery, and stores the run id under the key", async () => {
    const inbox = () => new WebhookInbox({ store: new RedisIdempotencyStore({ client: client!, keyPrefix: `${prefix}run:` }), pollMs: 5 });
    const start = vi.fn(async () => "run-redis-1");
    const event = { id: "msg_in1", payload: {} };
    // Two servers receive the same event at once.
    const results = await Promise.all([inbox().accept(event, start), inbox().accept(event, start)]);
    expect(results.map((r) => r.runId)).toEqual(["run-redis-1", "run-redis-1"]);
    expect(results.map((r) => r.duplicate).sort()).toEqual([false, true]);
    expect(await inbox().accept(event, start)).toEqual({ runId: "run-redis-1", duplicate: true });
    expect(start).toHaveBeenCalledTimes(1);
    expect(await client!.get(`${prefix}run:msg_in1`)).toBe("run-redis-1");
  });

  it("releases the key when the start fails, so a redelivery can start the run", async () => {
    const store = new RedisIdempotencyStore({ client: client!, keyPrefix: `${prefix}run:` });
    const inbox = new WebhookInbox({ store });
    const event = { id: "msg_fail", payload: {} };
    await expect(inbox.accept(event, () => Promise.reject(new Error("queue down")))).rejects.toThrow("queue down");
    expect(await store.get("msg_fail")).toBeUndefined();
    expect(await inbox.accept(event, async () => "run-after")).toEqual({ runId: "run-after", duplicate: false });
  });
});
