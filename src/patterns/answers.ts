/** Helpers for comparing free-text answers across agents, samples or rounds. */

/**
 * A comparable form of an answer: what follows an explicit "answer:" or "####" marker if there is
 * one; otherwise the last number in the text (commas dropped: "1,200" → "1200"); otherwise the
 * first sentence, lower-cased, without punctuation. Two answers agree when these are equal.
 */
export function normalizeAnswer(text: string): string {
  const marked = /(?:####|\bfinal answer\s*[:：]|\banswer\s*[:：])\s*([^\n]+)/i.exec(text)?.[1];
  const source = marked ?? text;
  const numbers = source.replace(/\[[^\]]*\]/g, " ").match(/-?\d[\d,]*(?:\.\d+)?/g);
  if (numbers?.length) return String(Number(numbers.at(-1)!.replace(/,/g, "")));
  const first = source.split(/(?<=[.!?])\s/)[0] ?? source;
  return first.toLowerCase().replace(/\[[^\]]*\]/g, "").replace(/[^\p{L}\p{N}\s]/gu, "").replace(/\s+/g, " ").trim();
}

/** The most common value and its count; ties go to the value seen first. */
export function majority<T>(values: readonly T[]): { value: T | undefined; count: number } {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: { value: T | undefined; count: number } = { value: undefined, count: 0 };
  for (const [value, count] of counts) if (count > best.count) best = { value, count };
  return best;
}

/** Shortens a long answer for another agent to read: its first sentences and its last, where answers usually end. */
export function summarize(text: string, maxChars: number): string {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= maxChars) return clean;
  const parts = clean.split(/(?<=[.!?])\s+/);
  const last = parts.at(-1) ?? "";
  let head = "";
  for (const part of parts.slice(0, -1)) {
    if (head.length + part.length + last.length + 5 > maxChars) break;
    head += `${part} `;
  }
  return `${head}… ${last}`.slice(0, maxChars + last.length);
}
