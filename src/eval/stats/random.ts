/**
 * Small deterministic randomness for reproducible bootstraps and shuffles. Not for anything secret.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const PART_SEPARATOR = 0x1f; // unit separator, so ("ab", "c") and ("a", "bc") hash differently
const encoder = new TextEncoder();

/**
 * A stable unsigned 32-bit FNV-1a hash of the parts' UTF-8 text, for deriving seeds
 * (`hashSeed(runSeed, sampleId, scorer)`). Numbers hash as their decimal text, so 7 and "7" agree.
 */
export function hashSeed(...parts: Array<string | number>): number {
  let hash = FNV_OFFSET;
  parts.forEach((part, index) => {
    if (index > 0) hash = Math.imul(hash ^ PART_SEPARATOR, FNV_PRIME);
    for (const byte of encoder.encode(String(part))) hash = Math.imul(hash ^ byte, FNV_PRIME);
  });
  return hash >>> 0;
}

/**
 * A mulberry32 generator: the same seed always gives the same sequence of numbers in [0, 1).
 * The seed is taken as an unsigned 32-bit integer (fractions are dropped; use `hashSeed` for text).
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random whole number in [0, bound) drawn from `random`. */
export function randomIndex(random: () => number, bound: number): number {
  return Math.floor(random() * bound);
}

/** A Fisher–Yates shuffle into a new array; `items` is left as it was. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  const random = seededRandom(seed);
  for (let i = result.length - 1; i > 0; i--) {
    const j = randomIndex(random, i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/** A number in [0, 1) fixed by its parts: the same key always lands in the same place (A/B arms, canary and flag buckets). */
export function stableShare(...parts: Array<string | number>): number {
  return seededRandom(hashSeed(...parts))();
}
