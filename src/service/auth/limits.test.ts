import { describe, expect, it } from "vitest";
import type { Principal } from "./keys.ts";
import { ApiKeyLimits } from "./limits.ts";

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe("ApiKeyLimits", () => {
  it("lets a key without limits through every time", async () => {
    const limits = new ApiKeyLimits();
    const principal: Principal = { id: "free", name: "free", scopes: ["run"] };
    for (let i = 0; i < 100; i++) expect(await limits.check(principal)).toEqual({ ok: true });
  });

  it("answers 429 with a positive Retry-After after N requests in a minute, then lets one through once it refills", async () => {
    const time = clock();
    const limits = new ApiKeyLimits({ now: time.now });
    const principal: Principal = { id: "abc", name: "ci", scopes: ["run"], rateLimit: { requestsPerMinute: 3 } };
    for (let i = 0; i < 3; i++) expect(await limits.check(principal)).toEqual({ ok: true });
    const refused = await limits.check(principal);
    expect(refused).toMatchObject({ ok: false, status: 429, reason: "rate-limit", retryAfterSec: 20 });
    // A refusal takes nothing: after the advertised wait, one request goes.
    time.advance(20_000);
    expect(await limits.check(principal)).toEqual({ ok: true });
    expect(await limits.check(principal)).toMatchObject({ ok: false, status: 429 });
    // Keys are limited separately.
    expect(await limits.check({ ...principal, id: "def" })).toEqual({ ok: true });
  });

  it("refuses without waiting: a refusal comes back at once on the real clock", async () => {
    const limits = new ApiKeyLimits();
    const principal: Principal = { id: "slow", name: "slow", scopes: ["run"], rateLimit: { requestsPerMinute: 1 } };
    await limits.check(principal);
    const started = Date.now();
    const refused = await limits.check(principal);
    expect(Date.now() - started).toBeLessThan(100);
    expect(refused.ok === false && refused.reason === "rate-limit" && refused.retryAfterSec).toBeGreaterThan(0);
  });

  it("answers 429 once the quota is used up, and keeps refusing after the rate limit refills", async () => {
    const time = clock();
    const limits = new ApiKeyLimits({ now: time.now });
    const principal: Principal = { id: "q", name: "trial", scopes: ["run"], rateLimit: { requestsPerMinute: 60 }, quota: { requests: 2 } };
    expect(await limits.check(principal)).toEqual({ ok: true });
    expect(await limits.check(principal)).toEqual({ ok: true });
    const refused = await limits.check(principal);
    expect(refused).toMatchObject({ ok: false, status: 429, reason: "quota" });
    expect(refused.ok === false && refused.message).toMatch(/quota of 2 requests/);
    time.advance(3_600_000);
    expect(await limits.check(principal)).toMatchObject({ ok: false, reason: "quota" });
  });
});
