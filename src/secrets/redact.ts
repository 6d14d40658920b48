/** What every redacted secret is replaced with. */
export const REDACTED = "[REDACTED]";

/** OpenAI-style API keys (`sk-…`, `sk-proj-…`), redacted even when not among the known secrets. */
const API_KEY_SHAPE = /\bsk-[A-Za-z0-9_-]{20,}/g;
/** `Authorization: Bearer <token>`: the token goes, the word stays. */
const BEARER_SHAPE = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * Masks secrets in text and values before they reach logs, traces, audit records or checkpoints.
 * It replaces every known secret value (longest first, so a secret containing another is masked
 * whole) and two well-known shapes even when unknown: `sk-` API keys and `Bearer` tokens.
 */
export class Redactor {
  /** A redactor that changes nothing, at no cost (tests, or redaction switched off). */
  static readonly none: Redactor = new Redactor([], false);

  private readonly secrets: RegExp | undefined;
  private readonly active: boolean;

  /** `secretValues`: exact strings to mask (empty ones are ignored); `shapes`: also mask `sk-` keys and `Bearer` tokens. */
  constructor(secretValues: readonly string[], shapes = true) {
    // Each secret also in its JSON-escaped form (`"` → `\"`), as it appears inside serialized JSON.
    const forms = secretValues.filter((value) => value.length > 0).flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]);
    const unique = [...new Set(forms)].sort((a, b) => b.length - a.length);
    this.secrets = unique.length === 0 ? undefined : new RegExp(unique.map(escapeRegExp).join("|"), "g");
    this.active = shapes || unique.length > 0;
  }

  /** `text` with every secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    if (!this.active || text.length === 0) return text;
    let out = this.secrets === undefined ? text : text.replace(this.secrets, REDACTED);
    if (out.includes("sk-")) out = out.replace(API_KEY_SHAPE, REDACTED);
    if (/bearer/i.test(out)) out = out.replace(BEARER_SHAPE, `$1 ${REDACTED}`);
    return out;
  }

  /**
   * A deep copy of `value` with every string (and object key) redacted. Plain objects, arrays and
   * Errors are copied; other class instances (Date, Map, Buffer, user classes) are returned as they
   * are, untouched: their contents, and the JSON they turn into, are not redacted here. Serialize
   * them and pass the text through {@link redact} when they may hold secrets. Cycles are kept.
   */
  redactValue<T>(value: T): T {
    if (!this.active) return value;
    return this.copy(value, new Map()) as T;
  }

  /**
   * A copy of `error` whose message and stack (and those of its causes, and string fields such as
   * `details`) are redacted, keeping its class, name and code. A thrown non-Error becomes an Error.
   */
  redactError(error: unknown): Error {
    if (!(error instanceof Error)) return new Error(this.redact(String(error)));
    if (!this.active) return error;
    return this.copy(error, new Map()) as Error;
  }

  private copy(value: unknown, seen: Map<object, unknown>): unknown {
    if (typeof value === "string") return this.redact(value);
    if (typeof value !== "object" || value === null) return value;
    const done = seen.get(value);
    if (done !== undefined) return done;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const item of value) out.push(this.copy(item, seen));
      return out;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    const isError = value instanceof Error;
    if (!isError && proto !== Object.prototype && proto !== null) return value;
    const out = Object.create(proto as object | null) as Record<string, unknown>;
    seen.set(value, out);
    // Own names, not only enumerable ones: an Error's message and stack are not enumerable.
    for (const key of Object.getOwnPropertyNames(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      if ("value" in descriptor) descriptor.value = this.copy(descriptor.value, seen);
      Object.defineProperty(out, isError ? key : this.redact(key), descriptor);
    }
    return out;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
