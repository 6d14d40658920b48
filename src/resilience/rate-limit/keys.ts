/**
 * Settings looked up by key: an exact key wins, then the longest matching prefix pattern
 * ("model:openai:*" before "model:*"), then "*". Unmatched keys get nothing.
 */
export class KeyTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly prefixes: Array<{ prefix: string; pattern: string; value: T }> = [];

  constructor(entries: Record<string, T>) {
    for (const [pattern, value] of Object.entries(entries)) {
      if (pattern.endsWith("*")) this.prefixes.push({ prefix: pattern.slice(0, -1), pattern, value });
      else this.exact.set(pattern, value);
    }
    this.prefixes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  match(key: string): { pattern: string; value: T } | undefined {
    const exact = this.exact.get(key);
    if (exact !== undefined) return { pattern: key, value: exact };
    const prefix = this.prefixes.find((entry) => key.startsWith(entry.prefix));
    return prefix && { pattern: prefix.pattern, value: prefix.value };
  }
}

/** A header from a fetch `Headers` or a plain record, whose names may come in any case. */
export function readHeader(headers: Record<string, string | undefined> | Headers, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | undefined>;
  if (record[name] !== undefined) return record[name];
  const found = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  return found === undefined ? undefined : record[found];
}
