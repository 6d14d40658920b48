import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../errors.ts";
import { ApiKeyError, ApiKeyNotFoundError, ApiKeyStore, ForbiddenError, hasScope, requireScope } from "./keys.ts";

const opened: ApiKeyStore[] = [];
function store(dir = mkdtempSync(join(tmpdir(), "conclave-keys-"))): { keys: ApiKeyStore; path: string; dir: string } {
  const path = join(dir, "keys.sqlite");
  const keys = new ApiKeyStore({ path });
  opened.push(keys);
  return { keys, path, dir };
}
afterEach(() => {
  for (const keys of opened.splice(0)) keys.close();
});

describe("ApiKeyStore", () => {
  it("creates a key of the documented shape and verifies it to its owner", () => {
    const { keys } = store();
    const { id, key } = keys.createKey({ name: "ci", scopes: ["run"], rateLimit: { requestsPerMinute: 30 }, quota: { requests: 1000 } });
    expect(key).toMatch(new RegExp(`^ck_${id}_[0-9A-Za-z]{32}$`));
    expect(keys.verify(key)).toEqual({ id, name: "ci", scopes: ["run"], rateLimit: { requestsPerMinute: 30 }, quota: { requests: 1000 } });
    expect(keys.createKey({ name: "other", scopes: ["run"] }).key).not.toBe(key);
  });

  it("refuses a wrong, malformed or foreign key with a 401 ApiKeyError", () => {
    const { keys } = store();
    const { id, key } = keys.createKey({ name: "ci", scopes: ["run"] });
    const wrongSecret = `ck_${id}_${"A".repeat(32)}`;
    for (const candidate of [wrongSecret, `${key}x`, "", "Bearer nonsense", `ck_000000000000_${"B".repeat(32)}`]) {
      const error = (() => {
        try {
          keys.verify(candidate);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, candidate).toBeInstanceOf(ApiKeyError);
      expect(error).toMatchObject({ status: 401, code: "API_KEY_INVALID" });
      expect((error as Error).message).toContain("unknown or revoked API key");
    }
  });

  it("refuses a revoked key, and revoking an unknown id says so", () => {
    const { keys } = store();
    const { id, key } = keys.createKey({ name: "ci", scopes: ["run"] });
    expect(keys.revoke(id)).toMatchObject({ id, revokedAt: expect.any(Number) });
    expect(() => keys.verify(key)).toThrow(ApiKeyError);
    expect(keys.revoke(id).revokedAt).toBeDefined();
    expect(() => keys.revoke("nope")).toThrow(ApiKeyNotFoundError);
  });

  it("stores only a hash: the key is in neither the SQLite files nor list()", () => {
    const { keys, dir } = store();
    const { key } = keys.createKey({ name: "ci", scopes: ["admin"] });
    const secret = key.split("_")[2]!;
    keys.close();
    opened.splice(0);
    const bytes = Buffer.concat(readdirSync(dir).map((file) => readFileSync(join(dir, file))));
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(key))).toBe(false);
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    const reopened = store(dir).keys;
    expect(reopened.verify(key).name).toBe("ci");
    expect(JSON.stringify(reopened.list())).not.toContain(secret);
    expect(Object.keys(reopened.list()[0]!).sort()).toEqual(["createdAt", "id", "name", "scopes"]);
  });

  it("refuses bad scopes, names and limits with the allowed list", () => {
    const { keys } = store();
    expect(() => keys.createKey({ name: "x", scopes: ["root" as "run"] })).toThrow(/Unknown API key scope "root".*run, approve, admin/);
    expect(() => keys.createKey({ name: "x", scopes: [] })).toThrow(ConfigError);
    expect(() => keys.createKey({ name: " ", scopes: ["run"] })).toThrow(/needs a name/);
    expect(() => keys.createKey({ name: "x", scopes: ["run"], rateLimit: { requestsPerMinute: 0 } })).toThrow(/positive whole number/);
  });
});

describe("scopes", () => {
  it("grants held scopes, lets admin imply the others, and names the missing scope in a 403", () => {
    const runner = { id: "k1", scopes: ["run" as const] };
    expect(() => requireScope(runner, "run")).not.toThrow();
    const error = (() => {
      try {
        requireScope(runner, "approve");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ status: 403, code: "FORBIDDEN", scope: "approve" });
    expect((error as Error).message).toContain('"approve" scope');
    expect(() => requireScope(runner, "admin")).toThrow(ForbiddenError);
    const admin = { id: "k2", scopes: ["admin" as const] };
    for (const scope of ["run", "approve", "admin"] as const) expect(hasScope(admin, scope)).toBe(true);
  });
});
