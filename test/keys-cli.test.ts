import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ApiKeyStore } from "../src/service/auth/keys.ts";
import { runCli, STATE_DIR } from "./helpers/cli.ts";

function lastLine(text: string): string {
  return text.trimEnd().split("\n").at(-1)!;
}

describe("conclave keys", () => {
  it("create prints the key as the last line of stdout, once, and it verifies against the store", async () => {
    const created = await runCli(["keys", "create", "--name", "ci", "--scopes", "run,approve", "--rpm", "60", "--quota", "1000"]);
    expect(created.code, created.stderr).toBe(0);
    const key = lastLine(created.stdout);
    expect(key).toMatch(/^ck_[0-9a-f]{12}_[0-9A-Za-z]{32}$/);
    expect(created.stderr).toMatch(/shown once/);
    expect(created.stderr).not.toContain(key);
    const store = new ApiKeyStore({ path: join(STATE_DIR, "keys.sqlite") });
    try {
      expect(store.verify(key)).toMatchObject({ name: "ci", scopes: ["run", "approve"], rateLimit: { requestsPerMinute: 60 }, quota: { requests: 1000 } });
    } finally {
      store.close();
    }
  });

  it("list --json shows ids, names and scopes but never a key; revoke marks it revoked", async () => {
    const created = await runCli(["keys", "create", "--name", "ops", "--scopes", "admin"]);
    const key = lastLine(created.stdout);
    const id = key.split("_")[1]!;
    const secret = key.split("_")[2]!;
    const listed = await runCli(["keys", "list", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain(secret);
    const keys = JSON.parse(listed.stdout) as Array<{ id: string; name: string; scopes: string[]; revokedAt?: number }>;
    expect(keys.find((entry) => entry.id === id)).toMatchObject({ name: "ops", scopes: ["admin"] });
    const text = await runCli(["keys", "list"]);
    expect(text.stdout).toContain(id);
    expect(text.stdout).not.toContain(secret);

    const revoked = await runCli(["keys", "revoke", id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = JSON.parse((await runCli(["keys", "list", "--json"])).stdout) as typeof keys;
    expect(after.find((entry) => entry.id === id)?.revokedAt).toEqual(expect.any(Number));
    // Nothing in the state folder holds the secret.
    const files = readdirSync(STATE_DIR).filter((file) => file.startsWith("keys.sqlite"));
    expect(Buffer.concat(files.map((file) => readFileSync(join(STATE_DIR, file)))).includes(Buffer.from(secret))).toBe(false);
  });

  it("refuses bad scopes with exit 2 and the allowed list, before touching the store", async () => {
    const result = await runCli(["keys", "create", "--name", "x", "--scopes", "run,root"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/unknown scope "root".*Allowed scopes: run, approve, admin/);
    expect((await runCli(["keys", "create", "--name", "x"])).code).toBe(2);
    expect((await runCli(["keys", "create", "--name", "x", "--scopes", "run", "--rpm", "0"])).code).toBe(2);
    expect((await runCli(["keys", "frobnicate"])).code).toBe(2);
  });

  it("revoking an unknown id fails and says how to find ids", async () => {
    const result = await runCli(["keys", "revoke", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/No API key with id "nope".*conclave keys list/);
  });

  it("has help", async () => {
    const help = await runCli(["keys", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/conclave keys create --name N --scopes run,approve,admin/);
  });
});
