import { describe, expect, it } from "vitest";
import { hashSeed, seededRandom, shuffle } from "./random.ts";

describe("hashSeed", () => {
  it("is 32-bit FNV-1a for a single part (published test vectors)", () => {
    expect(hashSeed("")).toBe(0x811c9dc5);
    expect(hashSeed("a")).toBe(0xe40c292c);
    expect(hashSeed("foobar")).toBe(0xbf9cf968);
  });

  it("keeps part boundaries, hashes numbers as their text and UTF-8 for other scripts", () => {
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("a", "bc"));
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("abc"));
    expect(hashSeed(7, "sample-1")).toBe(hashSeed("7", "sample-1"));
    expect(hashSeed("é")).toBe(hashSeed("\u00e9"));
    for (const value of [hashSeed("x"), hashSeed(1, 2, 3), hashSeed("日本語")]) {
      expect(Number.isInteger(value) && value >= 0 && value < 2 ** 32).toBe(true);
    }
  });
});

describe("seededRandom", () => {
  it("gives the same sequence for the same seed and a different one for another seed", () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("keeps its sequence across releases, so saved seeds reproduce old reports (mulberry32)", () => {
    const random = seededRandom(1);
    expect([random(), random(), random()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it("stays in [0, 1) and is roughly uniform", () => {
    const values = Array.from({ length: 20_000 }, seededRandom(7));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
    const average = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(Math.abs(average - 0.5)).toBeLessThan(0.01);
    expect(values.filter((value) => value < 0.1).length / values.length).toBeCloseTo(0.1, 1);
  });
});

describe("shuffle", () => {
  it("returns a reordered copy, leaves the input alone and is deterministic", () => {
    const items = Array.from({ length: 20 }, (_, index) => index);
    const shuffled = shuffle(items, 3);
    expect(items).toEqual(Array.from({ length: 20 }, (_, index) => index));
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(shuffle(items, 3)).toEqual(shuffled);
    expect(shuffle(items, 4)).not.toEqual(shuffled);
  });

  it("handles empty and one-item lists", () => {
    expect(shuffle([], 1)).toEqual([]);
    expect(shuffle(["only"], 1)).toEqual(["only"]);
  });

  it("makes every order about equally likely", () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 6000; seed++) {
      const key = shuffle(["a", "b", "c"], seed).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });
});
