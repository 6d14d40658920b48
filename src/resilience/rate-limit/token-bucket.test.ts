import { describe, expect, it } from "vitest";
import { ConfigError } from "../../errors.ts";
import { TokenBucket, parseResetDuration } from "./token-bucket.ts";

function bucket(capacity: number, refillPerMinute: number) {
  const clock = { t: 0 };
  return { clock, bucket: new TokenBucket({ capacity, refillPerMinute, now: () => clock.t }) };
}

describe("TokenBucket", () => {
  it("starts full and refills continuously from elapsed time, never above capacity", () => {
    const { clock, bucket: b } = bucket(10, 60); // one token per second
    expect(b.available()).toBe(10);
    expect(b.tryTake(10)).toBe(true);
    expect(b.tryTake(1)).toBe(false);
    clock.t = 2_500;
    expect(b.available()).toBeCloseTo(2.5);
    expect(b.waitTimeFor(5)).toBeCloseTo(2_500);
    expect(b.tryTake(2)).toBe(true);
    expect(b.available()).toBeCloseTo(0.5);
    clock.t = 1_000_000;
    expect(b.available()).toBe(10);
  });

  it("takes nothing when a take fails", () => {
    const { bucket: b } = bucket(5, 60);
    expect(b.tryTake(4)).toBe(true);
    expect(b.tryTake(2)).toBe(false);
    expect(b.available()).toBe(1);
  });

  it("waits Infinity for more than capacity, or when it never refills", () => {
    const { bucket: b } = bucket(10, 60);
    expect(b.waitTimeFor(0)).toBe(0);
    expect(b.waitTimeFor(10)).toBe(0);
    expect(b.waitTimeFor(11)).toBe(Infinity);
    const { bucket: frozen } = bucket(3, 0);
    frozen.tryTake(3);
    expect(frozen.waitTimeFor(1)).toBe(Infinity);
  });

  it("goes into debt on a forced take and gives back only up to capacity", () => {
    const { clock, bucket: b } = bucket(10, 60);
    b.take(13);
    expect(b.available()).toBe(-3);
    expect(b.waitTimeFor(0)).toBeCloseTo(3_000);
    expect(b.timeToAccrue(2)).toBeCloseTo(5_000);
    clock.t = 3_000;
    expect(b.available()).toBeCloseTo(0);
    b.giveBack(50);
    expect(b.available()).toBe(10);
  });

  it("counts queued demand beyond capacity with timeToAccrue", () => {
    const { bucket: b } = bucket(6, 6); // one per 10 s
    b.tryTake(6);
    expect(b.waitTimeFor(7)).toBe(Infinity);
    expect(b.timeToAccrue(7)).toBeCloseTo(70_000);
  });

  it("lets provider headers lower the level, never raise it", () => {
    const { bucket: b } = bucket(10, 60);
    b.setRemaining(4);
    expect(b.available()).toBe(4);
    b.setRemaining(8);
    expect(b.available()).toBe(4);
    b.setRemaining(Number.NaN);
    expect(b.available()).toBe(4);
  });

  it("holds refill until the provider's reset, then is full less what was taken meanwhile", () => {
    const { clock, bucket: b } = bucket(10, 60);
    b.setRemaining(1, 2_000);
    expect(b.waitTimeFor(1)).toBe(0);
    expect(b.waitTimeFor(2)).toBe(2_000);
    expect(b.tryTake(1)).toBe(true);
    clock.t = 1_999;
    expect(b.available()).toBe(0);
    expect(b.waitTimeFor(1)).toBe(1);
    // Full at the reset, less the one taken during the hold; then normal refill resumes.
    expect(b.waitTimeFor(10)).toBeCloseTo(1 + 1_000);
    clock.t = 2_000;
    expect(b.available()).toBe(9);
    clock.t = 2_500;
    expect(b.available()).toBeCloseTo(9.5);
  });

  it("refuses a capacity or refill rate it cannot use", () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerMinute: 1 })).toThrow(ConfigError);
    expect(() => new TokenBucket({ capacity: 5, refillPerMinute: -1 })).toThrow(ConfigError);
    expect(() => new TokenBucket({ capacity: Infinity, refillPerMinute: 1 })).toThrow(ConfigError);
  });
});

describe("parseResetDuration", () => {
  it.each([
    ["1s", 1_000],
    ["6m0s", 360_000],
    ["20ms", 20],
    ["1h2m3s", 3_723_000],
    ["2m59.56s", 179_560],
    ["0s", 0],
    [" 250ms ", 250],
  ])("parses %j as %d ms", (text, ms) => {
    expect(parseResetDuration(text)).toBeCloseTo(ms);
  });

  it.each(["", "junk", "5", "1x", "s", "1s junk", "-1s", "1m-2s", "1.s"])("returns undefined for %j", (text) => {
    expect(parseResetDuration(text)).toBeUndefined();
  });
});
