import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "./canonical.ts";

describe("canonicalJson", () => {
  it("sorts keys at every level and follows JSON.stringify otherwise", () => {
    const value = { b: 1, a: { d: [3, { z: true, y: null }], c: "x" }, "10": "ten", "2": "two" };
    expect(canonicalJson(value)).toBe('{"10":"ten","2":"two","a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
    expect(canonicalJson({ keep: 1, skip: undefined, fn: () => 1, list: [undefined, () => 1] })).toBe('{"keep":1,"list":[null,null]}');
    expect(canonicalJson({ when: new Date(0) })).toBe('{"when":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson("a\"b")).toBe(JSON.stringify("a\"b"));
    expect(canonicalJson(undefined)).toBe("null");
  });

  it("gives the same text for the same value in any key order, and after a JSON round trip", () => {
    const one = { x: { q: 1, p: [1, 2] }, w: "é\n" };
    const two = { w: "é\n", x: { p: [1, 2], q: 1 } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(canonicalJson(JSON.parse(JSON.stringify(one)))).toBe(canonicalJson(one));
    expect(sha256Hex(canonicalJson(one))).toMatch(/^[0-9a-f]{64}$/);
  });
});
