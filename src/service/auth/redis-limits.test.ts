import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { Principal } from "./keys.ts";
import { LimitStoreUnavailableError, RedisApiKeyLimits } from "./redis-limits.ts";

const url = process.env.REDIS_URL ?? "";
// Every run writes under its own prefix, so tests never touch anyone else's keys.
const prefix = `conclave-test:${randomUUID()}:limits`;

function key(overrides: Partial<Principal> = {}): Principal {
  return { id: randomUUID(), name: "ci", scopes: ["run"], ...overrides };
}

describe.skipIf(!url)(`RedisApiKeyLimits on Redis${url ? "" : " — SKIPPED: set REDIS_URL, e.g. redis://127.0.0.1:6379"}`, () => {
  const client = url ? new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 }) : undefined;
  // Two instances stand for two servers behind a load balancer; one owns its connection, one borrows.
  const serverA = url ? new RedisApiKeyLimits({ redis: url, prefix }) : undefined;
  const serverB = url ? new RedisApiKeyLimits({ redis: client!, prefix }) : undefined;

  afterAll(async () => {
    if (!client) return;
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await serverA!.close();
    await serverB!.close(); // borrowed: must leave the client open
    expect(client.status).toBe("ready");
    await client.quit();
  });

  it("shares one key's rate limit between servers, and refuses with the real wait", async () => {
    const principal = key({ rateLimit: { requestsPerMinute: 3 } });
    expect(await serverA!.check(principal)).toEqual({ ok: true });
    expect(await serverA!.check(principal)).toEqual({ ok: true });
    expect(await serverB!.check(principal)).toEqual({ ok: true });
    for (const server of [serverA!, serverB!]) {
      const refused = await server.check(principal);
      expect(refused).toMatchObject({ ok: false, status: 429, reason: "rate-limit" });
      if (refused.ok || refused.reason !== "rate-limit") throw new Error("expected a rate-limit refusal");
      // 3/min frees a slot every 20 s after the first was taken, so the wait is at most 20 s.
      expect(refused.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSec).toBeLessThanOrEqual(20);
      expect(refused.message).toMatch(/limit of 3 requests per minute; retry later/);
    }
    // Keys are limited separately.
    expect(await serverB!.check(key({ rateLimit: { requestsPerMinute: 3 } }))).toEqual({ ok: true });
  });

  it("frees a slot after the advertised wait (injected clock)", async () => {
    let now = 1_700_000_000_000;
    const limits = new RedisApiKeyLimits({ redis: client!, prefix, now: () => now });
    const principal = key({ rateLimit: { requestsPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect(await limits.check(principal)).toEqual({ ok: true });
    expect(await limits.check(principal)).toMatchObject({ reason: "rate-limit", retryAfterSec: 20 });
    now += 19_999;
    expect(await limits.check(principal)).toMatchObject({ reason: "rate-limit", retryAfterSec: 1 });
    now += 1;
    expect(await limits.check(principal)).toEqual({ ok: true });
    expect(await limits.check(principal)).toMatchObject({ reason: "rate-limit" });
  });

  it("shares the quota, keeps it for a new instance, and never expires it", async () => {
    const principal = key({ quota: { requests: 3 } });
    expect(await serverA!.check(principal)).toEqual({ ok: true });
    expect(await serverB!.check(principal)).toEqual({ ok: true });
    const restarted = new RedisApiKeyLimits({ redis: url, prefix });
    try {
      expect(await restarted.check(principal)).toEqual({ ok: true });
      const refused = await restarted.check(principal);
      expect(refused).toEqual({ ok: false, status: 429, reason: "quota", message: expect.stringMatching(/quota of 3 requests\. Ask an admin for a key with a larger --quota/) });
      expect(await serverA!.check(principal)).toMatchObject({ reason: "quota" });
    } finally {
      await restarted.close();
    }
    expect(await client!.get(`${prefix}:{${principal.id}}:quota`)).toBe("3");
    expect(await client!.pttl(`${prefix}:{${principal.id}}:quota`)).toBe(-1);
  });

  it("does not charge the quota for rate-limited requests, nor a rate slot for quota-refused ones", async () => {
    const principal = key({ rateLimit: { requestsPerMinute: 2 }, quota: { requests: 10 } });
    expect(await serverA!.check(principal)).toEqual({ ok: true });
    expect(await serverB!.check(principal)).toEqual({ ok: true });
    for (let i = 0; i < 5; i++) expect(await serverA!.check(principal)).toMatchObject({ reason: "rate-limit" });
    expect(await client!.get(`${prefix}:{${principal.id}}:quota`)).toBe("2");

    let now = 1_700_000_000_000;
    const clocked = new RedisApiKeyLimits({ redis: client!, prefix, now: () => now });
    const trial = key({ rateLimit: { requestsPerMinute: 60 }, quota: { requests: 1 } });
    expect(await clocked.check(trial)).toEqual({ ok: true });
    const tatAfterOne = await client!.get(`${prefix}:{${trial.id}}:rate`);
    for (let i = 0; i < 5; i++) expect(await clocked.check(trial)).toMatchObject({ reason: "quota" });
    expect(await client!.get(`${prefix}:{${trial.id}}:rate`)).toBe(tatAfterOne);
    now += 3_600_000;
    expect(await clocked.check(trial)).toMatchObject({ reason: "quota" });
  });

  it("lets keys without limits through without touching Redis", async () => {
    const offline = new RedisApiKeyLimits({ redis: "redis://127.0.0.1:1", prefix });
    try {
      for (let i = 0; i < 50; i++) {
        expect(await serverA!.check(key())).toEqual({ ok: true });
        expect(await offline.check(key())).toEqual({ ok: true });
      }
    } finally {
      await offline.close();
    }
  });

  it("lets exactly the limit through when 20 requests race on two servers", async () => {
    const principal = key({ rateLimit: { requestsPerMinute: 5 } });
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? serverA! : serverB!).check(principal)));
    expect(decisions.filter((decision) => decision.ok)).toHaveLength(5);
    expect(decisions.filter((decision) => !decision.ok && decision.reason === "rate-limit")).toHaveLength(15);

    const quoted = key({ quota: { requests: 5 } });
    const spent = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? serverA! : serverB!).check(quoted)));
    expect(spent.filter((decision) => decision.ok)).toHaveLength(5);
    expect(await client!.get(`${prefix}:{${quoted.id}}:quota`)).toBe("5");
  });
});

describe("RedisApiKeyLimits without Redis", () => {
  it("throws LimitStoreUnavailableError quickly when Redis is unreachable, instead of hanging", async () => {
    const limits = new RedisApiKeyLimits({ redis: "redis://127.0.0.1:1", timeoutMs: 300 });
    const principal = key({ rateLimit: { requestsPerMinute: 5 } });
    const started = Date.now();
    try {
      const error = await limits.check(principal).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(LimitStoreUnavailableError);
      expect(error).toMatchObject({ status: 503, code: "LIMIT_STORE_UNAVAILABLE", message: expect.stringMatching(/Redis at 127\.0\.0\.1:1 did not answer.*Check that Redis is running/) });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await limits.close();
    }
  });

  it("wraps the failure of a borrowed client too", async () => {
    const client = new Redis("redis://127.0.0.1:1", { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 300 });
    client.on("error", () => {});
    const limits = new RedisApiKeyLimits({ redis: client });
    try {
      await expect(limits.check(key({ quota: { requests: 1 } }))).rejects.toBeInstanceOf(LimitStoreUnavailableError);
    } finally {
      client.disconnect();
    }
  });

  it("rejects a URL that is not redis:// with a ConfigError", () => {
    expect(() => new RedisApiKeyLimits({ redis: "127.0.0.1:6379" })).toThrow(/must start with redis:\/\/ or rediss:\/\//);
  });
});
