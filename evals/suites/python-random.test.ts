import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PythonRandom, pythonShuffle } from "./python-random.ts";

// Every expected value below was printed by CPython 3.11.7, e.g.
//   python3 -c "import random; random.seed(0); x=list(range(20)); random.shuffle(x); print(x)"
// and, for whole permutations, hashlib.sha256(json.dumps(x, separators=(',', ':')).encode()).hexdigest(),
// which is the SHA-256 of JSON.stringify(x).

const range = (n: number) => Array.from({ length: n }, (_, index) => index);
const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

describe("pythonShuffle matches random.seed(s); random.shuffle(x)", () => {
  it("seed 0, list(range(20))", () => {
    expect(pythonShuffle(range(20), 0)).toEqual([10, 18, 16, 14, 0, 17, 11, 2, 3, 9, 5, 7, 4, 19, 6, 15, 8, 1, 13, 12]);
  });

  it("seed 42, list(range(20))", () => {
    expect(pythonShuffle(range(20), 42)).toEqual([19, 5, 14, 4, 9, 13, 15, 18, 6, 12, 17, 10, 1, 11, 2, 16, 7, 8, 0, 3]);
  });

  it("seed 0, list(range(1319)): first 20, last 20 and the whole permutation", () => {
    const x = pythonShuffle(range(1319), 0);
    expect(x.slice(0, 20)).toEqual([1101, 120, 474, 991, 192, 1020, 350, 480, 883, 1062, 799, 1257, 1070, 1234, 590, 446, 1302, 265, 175, 554]);
    expect(x.slice(-20)).toEqual([1090, 513, 1266, 194, 286, 577, 285, 1033, 447, 1194, 733, 976, 621, 829, 995, 1047, 530, 82, 861, 788]);
    expect(sha256(x)).toBe("95026b666c5705c8fd039ec8c540db1c5f34adc8c40fa896ce7e124063467c84");
  });

  it("seed 42, list(range(1319)): first 20, last 20 and the whole permutation", () => {
    const x = pythonShuffle(range(1319), 42);
    expect(x.slice(0, 20)).toEqual([588, 1214, 57, 906, 1252, 618, 599, 289, 608, 400, 237, 616, 672, 1132, 463, 222, 945, 238, 730, 55]);
    expect(x.slice(-20)).toEqual([54, 1232, 1034, 476, 447, 191, 61, 65, 864, 1209, 178, 1116, 209, 285, 457, 501, 563, 51, 228, 1309]);
    expect(sha256(x)).toBe("40fa952c2d1e46d0af4a1e622d8ccc9dcf7f2bfb6896174df530393ef88e8ac7");
  });

  it("seed 0, list(range(1, 1320))[:100]: Du et al.'s GSM8K lines", () => {
    const x = pythonShuffle(range(1319).map((index) => index + 1), 0).slice(0, 100);
    expect(x.slice(0, 10)).toEqual([1102, 121, 475, 992, 193, 1021, 351, 481, 884, 1063]);
    expect(sha256(x)).toBe("a44b4975ad01a8c1c564b4ee9ad25bad414e30f9e340cbf9f0762353c86d3579");
  });

  it("shuffles any items, short lists included, and leaves its input alone", () => {
    const letters = [..."abcdefghij"];
    expect(pythonShuffle(letters, 0)).toEqual(["h", "i", "b", "f", "d", "e", "c", "a", "j", "g"]);
    expect(letters.join("")).toBe("abcdefghij");
    expect(pythonShuffle([], 0)).toEqual([]);
    expect(pythonShuffle([0], 0)).toEqual([0]);
    expect(pythonShuffle([0, 1], 0)).toEqual([0, 1]);
    expect(pythonShuffle([0, 1, 2], 0)).toEqual([0, 2, 1]);
  });

  it("consumes the generator as CPython does: after shuffle(list(range(n))), getrandbits(32) is the same", () => {
    const after = (n: number) => {
      const random = new PythonRandom(0);
      random.shuffle(range(n));
      return random.getrandbits(32);
    };
    expect([after(0), after(1), after(2), after(3)]).toEqual([3626764237, 3626764237, 3255389356, 173879092]);
  });
});

describe("PythonRandom matches random.Random", () => {
  // [getrandbits(k) for k in (32, 32, 1, 7, 31, 33, 53, 0)] right after random.seed(seed)
  it.each([
    [0, [3626764237, 1654615998, 1, 113, 903170602, 173879092, 4605153980757242, 0]],
    [42, [2746317213, 478163327, 0, 94, 590620971, 1051802512, 6633543228244457, 0]],
    [-42, [2746317213, 478163327, 0, 94, 590620971, 1051802512, 6633543228244457, 0]],
    [2 ** 32 + 5, [675479763, 2085189291, 0, 113, 1298055150, 3587694693, 5654497768873533, 0]],
    [2n ** 64n + 3n, [3921169615, 2134766284, 1, 12, 1781603099, 2005675852, 1718579580151506, 0]],
    [12345678901234567n, [416727885, 2561263422, 1, 85, 2090474764, 6748151726, 2482347483999383, 0]],
  ] as Array<[number | bigint, number[]]>)("seed(%s) then getrandbits", (seed, expected) => {
    const random = new PythonRandom(seed);
    expect([32, 32, 1, 7, 31, 33, 53, 0].map((k) => random.getrandbits(k))).toEqual(expected);
  });

  it("_randbelow(n) for n in (1, 2, 3, 10, 1000, 2**32, 2**32 + 1, 2**53 - 1) after seed(0)", () => {
    const random = new PythonRandom(0);
    expect([1, 2, 3, 10, 1000, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1].map((n) => random.randbelow(n))).toEqual([0, 1, 0, 4, 988, 2195908194, 2046968324, 8031363715860095]);
  });

  it("seed() restarts the stream; bad arguments are refused", () => {
    const random = new PythonRandom(0);
    random.getrandbits(32);
    random.seed(0);
    expect(random.getrandbits(32)).toBe(3626764237);
    expect(() => new PythonRandom(0.5)).toThrow(RangeError);
    expect(() => random.getrandbits(54)).toThrow(RangeError);
    expect(() => random.randbelow(0)).toThrow(RangeError);
  });
});
