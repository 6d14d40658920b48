import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ApiKeyStore } from "../src/service/auth/keys.ts";
import { PostgresApiKeyStore } from "../src/service/auth/postgres-keys.ts";
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

describe("conclave keys --store", () => {
  it("postgres without DATABASE_URL is a usage error (exit 2) saying what to set, from the flag or CONCLAVE_KEY_STORE", async () => {
    const flagged = await runCli(["keys", "list", "--store", "postgres"]);
    expect(flagged.code).toBe(2);
    expect(flagged.stderr).toMatch(/DATABASE_URL/);
    const fromEnv = await runCli(["keys", "create", "--name", "x", "--scopes", "run"], { env: { CONCLAVE_KEY_STORE: "postgres" } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(/DATABASE_URL/);
    const unknown = await runCli(["keys", "list", "--store", "mysql"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--store is "sqlite".*or "postgres"/);
  });

  it("serve selects its key store the same way: postgres without DATABASE_URL stops the start with exit 2", async () => {
    const flagged = await runCli(["serve", "--port", "0", "--key-store", "postgres"]);
    expect(flagged.code).toBe(2);
    expect(flagged.stderr).toMatch(/conclave serve: the postgres key store needs DATABASE_URL/);
    const fromEnv = await runCli(["serve", "--port", "0"], { env: { CONCLAVE_KEY_STORE: "postgres" } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(/DATABASE_URL/);
  });

  it("the flag wins over CONCLAVE_KEY_STORE", async () => {
    const state = mkdtempSync(join(tmpdir(), "conclave-keys-flag-"));
    const created = await runCli(["keys", "create", "--name", "local", "--scopes", "run", "--store", "sqlite"], { env: { CONCLAVE_KEY_STORE: "postgres", CONCLAVE_STATE_DIR: state } });
    expect(created.code, created.stderr).toBe(0);
    expect(existsSync(join(state, "keys.sqlite"))).toBe(true);
  });
});

const DATABASE_URL = process.env.DATABASE_URL;

describe.skipIf(!DATABASE_URL)(`conclave keys --store postgres${DATABASE_URL ? "" : " — SKIPPED: DATABASE_URL is unset"}`, () => {
  const name = `cli-${randomUUID().slice(0, 8)}`;
  const env = { DATABASE_URL: DATABASE_URL!, CONCLAVE_STATE_DIR: mkdtempSync(join(tmpdir(), "conclave-keys-pg-")) };

  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL });
    await pool.query("DELETE FROM conclave_api_keys WHERE name = $1", [name]).catch(() => undefined);
    await pool.end();
  });

  it("creates (key as the last line), lists and revokes a key in PostgreSQL, leaving no SQLite file", async () => {
    const created = await runCli(["keys", "create", "--name", name, "--scopes", "run,approve", "--rpm", "60", "--store", "postgres"], { env });
    expect(created.code, created.stderr).toBe(0);
    const key = lastLine(created.stdout);
    expect(key).toMatch(/^ck_[0-9a-f]{12}_[0-9A-Za-z]{32}$/);
    const id = key.split("_")[1]!;
    const store = new PostgresApiKeyStore(DATABASE_URL!);
    try {
      expect(await store.verify(key)).toMatchObject({ id, name, scopes: ["run", "approve"], rateLimit: { requestsPerMinute: 60 } });
    } finally {
      await store.close();
    }

    // CONCLAVE_KEY_STORE selects it as well as the flag.
    const listed = await runCli(["keys", "list", "--json"], { env: { ...env, CONCLAVE_KEY_STORE: "postgres" } });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).not.toContain(key.split("_")[2]!);
    expect((JSON.parse(listed.stdout) as Array<{ id: string; name: string }>).find((entry) => entry.id === id)).toMatchObject({ name });
    expect((await runCli(["keys", "list", "--store", "postgres"], { env })).stdout).toMatch(new RegExp(`${id}\\s+active`));

    const revoked = await runCli(["keys", "revoke", id, "--store", "postgres"], { env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await runCli(["keys", "list", "--store", "postgres"], { env })).stdout).toMatch(new RegExp(`${id}\\s+revoked`));
    expect((await runCli(["keys", "revoke", "nope", "--store", "postgres"], { env })).code).toBe(1);
    // Nothing went to this machine's SQLite file.
    expect(existsSync(join(env.CONCLAVE_STATE_DIR, "keys.sqlite"))).toBe(false);
  });
});
