import { createHash } from "node:crypto";

/** The `prev` of the first record: there is no line before it. */
export const GENESIS_HASH = "0".repeat(64);

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values always give
 * equal text (and equal hashes), whatever order their keys were written in. Follows JSON.stringify
 * otherwise: `toJSON` is used, undefined and functions are left out of objects and become null in arrays.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? "null";
}

function write(value: unknown): string | undefined {
  if (value !== null && typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    value = (value as { toJSON(): unknown }).toJSON();
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value) as string | undefined;
  if (Array.isArray(value)) return `[${value.map((item) => write(item) ?? "null").join(",")}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
