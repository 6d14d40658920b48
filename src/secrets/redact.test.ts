import { describe, expect, it } from "vitest";
import { ConclaveError, ConfigError } from "../errors.ts";
import { REDACTED, Redactor } from "./redact.ts";

const CANARY = "sk-canary-0123456789abcdefghij";
const OTHER = "db-password-value-42";

describe("Redactor.redact", () => {
  const redactor = new Redactor([CANARY, OTHER]);

  it("replaces every occurrence of every secret", () => {
    const text = `key=${CANARY}; again ${CANARY}${CANARY} and ${OTHER}.`;
    expect(redactor.redact(text)).toBe(`key=${REDACTED}; again ${REDACTED}${REDACTED} and ${REDACTED}.`);
  });

  it("masks a secret that contains another one whole (longest first)", () => {
    const short = new Redactor(["abcdefgh", "abcdefgh-and-more"]);
    expect(short.redact("x abcdefgh-and-more y abcdefgh")).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it("masks well-known key shapes even when they are not known secrets", () => {
    const blank = new Redactor([]);
    expect(blank.redact("use sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX_yz please")).toBe(`use ${REDACTED} please`);
    expect(blank.redact("Authorization: Bearer eyJhbGciOi.payload.sig")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(blank.redact("authorization: bearer abcdef123456")).toBe(`authorization: bearer ${REDACTED}`);
    expect(blank.redact("sk-short and a task-list")).toBe("sk-short and a task-list");
  });

  it("masks the JSON-escaped form of a secret with quotes or backslashes", () => {
    const odd = 'pa"ss\\word-123';
    const text = JSON.stringify({ password: odd });
    expect(new Redactor([odd]).redact(text)).toBe(JSON.stringify({ password: REDACTED }));
  });

  it("returns the same string when nothing matches, and Redactor.none changes nothing", () => {
    const text = "nothing secret here";
    expect(redactor.redact(text)).toBe(text);
    expect(Redactor.none.redact(`${CANARY} Bearer abcdefghijk`)).toBe(`${CANARY} Bearer abcdefghijk`);
    const value = { a: [CANARY] };
    expect(Redactor.none.redactValue(value)).toBe(value);
  });

  it("ignores empty secret values", () => {
    expect(new Redactor(["", CANARY]).redact("plain")).toBe("plain");
  });
});

describe("Redactor.redactValue", () => {
  const redactor = new Redactor([CANARY]);

  it("deep-copies plain objects and arrays, masking strings and keys, without touching the input", () => {
    const input = { user: "ann", nested: { list: ["ok", `token ${CANARY}`, { deeper: CANARY }], n: 3, flag: true, none: null }, [CANARY]: "as a key" };
    const out = redactor.redactValue(input);
    expect(out).toEqual({ user: "ann", nested: { list: ["ok", `token ${REDACTED}`, { deeper: REDACTED }], n: 3, flag: true, none: null }, [REDACTED]: "as a key" });
    expect(input.nested.list[1]).toBe(`token ${CANARY}`);
    expect(JSON.stringify(out)).not.toContain(CANARY);
  });

  it("keeps class instances other than Error as they are (documented)", () => {
    const date = new Date(0);
    const map = new Map([["k", CANARY]]);
    const out = redactor.redactValue({ date, map });
    expect(out.date).toBe(date);
    expect(out.map).toBe(map);
  });

  it("copies cycles without looping", () => {
    const input: Record<string, unknown> = { secret: CANARY };
    input.self = input;
    const out = redactor.redactValue(input);
    expect(out.secret).toBe(REDACTED);
    expect(out.self).toBe(out);
  });

  it("redacts Errors inside values", () => {
    const out = redactor.redactValue({ failure: new Error(`call failed with ${CANARY}`) });
    expect(out.failure).toBeInstanceOf(Error);
    expect(out.failure.message).toBe(`call failed with ${REDACTED}`);
  });
});

describe("Redactor.redactError", () => {
  const redactor = new Redactor([CANARY]);

  it("masks message, stack, details and cause, keeping class, name and code", () => {
    const cause = new Error(`upstream said ${CANARY}`);
    const error = new ConfigError(`bad key ${CANARY} (twice: ${CANARY})`, { details: { key: CANARY }, cause });
    const out = redactor.redactError(error);
    expect(out).toBeInstanceOf(ConfigError);
    expect(out).toBeInstanceOf(ConclaveError);
    const copy = out as ConfigError;
    expect(copy.name).toBe("ConfigError");
    expect(copy.code).toBe("CONFIG_INVALID");
    expect(copy.message).toBe(`bad key ${REDACTED} (twice: ${REDACTED})`);
    expect(copy.stack).toContain(`bad key ${REDACTED}`);
    expect(copy.stack).not.toContain(CANARY);
    expect(copy.details).toEqual({ key: REDACTED });
    expect((copy.cause as Error).message).toBe(`upstream said ${REDACTED}`);
    expect(JSON.stringify(copy.toJSON())).not.toContain(CANARY);
    expect(error.message).toContain(CANARY);
  });

  it("turns a thrown non-Error into a redacted Error", () => {
    const out = redactor.redactError(`string thrown: ${CANARY}`);
    expect(out).toBeInstanceOf(Error);
    expect(out.message).toBe(`string thrown: ${REDACTED}`);
  });
});
