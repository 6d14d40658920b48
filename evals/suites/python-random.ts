/**
 * CPython's `random` module, as far as `random.seed(int)` and `random.shuffle(list)` go, so a
 * TypeScript suite can pick the same items a published Python script picked (GSM8K: Du et al.
 * 2023 do `random.seed(0); random.shuffle(questions)` and take the first 100).
 *
 * This follows CPython 3.x (Modules/_randommodule.c and Lib/random.py; unchanged from 3.2 to
 * 3.13): MT19937, an int seed turned into `init_by_array` with the 32-bit words of abs(seed),
 * least significant first (key [0] for 0); `getrandbits(k)`; `_randbelow_with_getrandbits(n)`;
 * and the Fisher–Yates loop of `shuffle`. Python 2's shuffle (`int(random() * (i + 1))`) gives
 * other orders and is not reproduced. python-random.test.ts checks the outputs against CPython.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** A `random.Random(seed)`: the same stream of `getrandbits`, `randbelow` and `shuffle` results as CPython's. */
export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;

  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** `random.seed(n)` for an integer n: `init_by_array` with the 32-bit words of abs(n), low word first. */
  seed(seed: number | bigint): void {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) throw new RangeError(`PythonRandom seeds with an integer; got ${seed}.`);
    let rest = BigInt(seed);
    if (rest < 0n) rest = -rest;
    const key: number[] = [];
    do {
      key.push(Number(rest & 0xffffffffn));
      rest >>= 32n;
    } while (rest > 0n);
    this.initByArray(key);
  }

  /** `random.getrandbits(k)`: a uniform integer in [0, 2^k). Here k is at most 53, so the result is an exact number. */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > 53) throw new RangeError(`getrandbits takes 0 <= k <= 53 here; got ${k}.`);
    if (k === 0) return 0;
    if (k <= 32) return this.next() >>> (32 - k);
    // CPython fills 32-bit words from the least significant up; the last word keeps its top bits.
    const low = this.next();
    const high = this.next() >>> (64 - k);
    return high * 2 ** 32 + low;
  }

  /** `Random._randbelow_with_getrandbits(n)`: k = n.bit_length(), then getrandbits(k) until it is below n. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`randbelow takes a positive safe integer; got ${n}.`);
    const k = n.toString(2).length;
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.shuffle(x)`, in place: for i from len(x) - 1 down to 1, swap x[i] with x[randbelow(i + 1)]. */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i >= 1; i--) {
      const j = this.randbelow(i + 1);
      const item = items[i] as T;
      items[i] = items[j] as T;
      items[j] = item;
    }
  }

  /** genrand_uint32: the next 32-bit output of MT19937. */
  private next(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
      mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private initGenrand(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = Math.imul(1812433253, prev ^ (prev >>> 30)) + i;
    }
    this.index = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]!;
      // Uint32Array stores modulo 2^32, as the C code's uint32_t arithmetic wraps.
      mt[i] = (mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j]! + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = (mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.index = N;
  }
}

/** `random.seed(seed); random.shuffle(x)` on a copy of `items`: the order Python gives, `items` left as it is. */
export function pythonShuffle<T>(items: readonly T[], seed: number | bigint): T[] {
  const copy = [...items];
  new PythonRandom(seed).shuffle(copy);
  return copy;
}
