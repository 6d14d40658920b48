import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyError, ApiKeyNotFoundError, KeyStoreUnavailableError } from "./keys.ts";
import { PostgresApiKeyStore } from "./postgres-keys.ts";

const DATABASE_URL = process.env.DATABASE_URL;

describe.skipIf(!DATABASE_URL)(`PostgresApiKeyStore${DATABASE_URL ? "" : " — SKIPPED: DATABASE_URL is unset"}`, () => {
  // Unique names per run: other runs (and other test files) may share the table.
  const run = `pgkeys-${randomUUID().slice(0, 8)}`;
  const name = (label: string) => `${run}-${label}`;
  // Two pools: two servers on two machines.
  let poolA: pg.Pool;
  let poolB: pg.Pool;
  let a: PostgresApiKeyStore;
  let b: PostgresApiKeyStore;

  beforeAll(async () => {
    poolA = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    poolB = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    a = new PostgresApiKeyStore(poolA);
    b = new PostgresApiKeyStore(poolB);
    await Promise.all([a.setup(), b.setup()]);
  });

  afterAll(async () => {
    await poolA?.query("DELETE FROM conclave_api_keys WHERE name LIKE $1", [`${run}-%`]);
    await a?.close();
    await b?.close();
    await poolA?.end();
    await poolB?.end();
  });

  it("creates a key that verifies, lists it without the secret, and refuses it once revoked", async () => {
    const { id, key } = await a.createKey({ name: name("ci"), scopes: ["run"] });
    expect(key).toMatch(new RegExp(`^ck_${id}_[0-9A-Za-z]{32}$`));
    expect(await a.verify(key)).toEqual({ id, name: name("ci"), scopes: ["run"] });
    expect(await a.verify(`  ${key}\n`)).toMatchObject({ id });
    const listed = (await a.list()).find((info) => info.id === id);
    expect(listed).toMatchObject({ id, name: name("ci"), scopes: ["run"], createdAt: expect.any(Number) });
    expect(listed?.revokedAt).toBeUndefined();
    expect(JSON.stringify(await a.list())).not.toContain(key.split("_")[2]!);
    // Only the hash is stored.
    const stored = await poolA.query<{ hash: Buffer }>("SELECT hash FROM conclave_api_keys WHERE id = $1", [id]);
    expect(stored.rows[0]!.hash.length).toBe(32);
    expect(stored.rows[0]!.hash.includes(Buffer.from(key))).toBe(false);
    expect(await a.hasActiveKeys()).toBe(true);

    const revoked = await a.revoke(id);
    expect(revoked.revokedAt).toEqual(expect.any(Number));
    await expect(a.verify(key)).rejects.toBeInstanceOf(ApiKeyError);
    // Revoking twice is harmless and keeps the first time.
    expect((await a.revoke(id)).revokedAt).toBe(revoked.revokedAt);
    await expect(a.revoke("000000000000")).rejects.toBeInstanceOf(ApiKeyNotFoundError);
  });

  it("a key created through one instance is accepted by another, and a revoke through one is refused by the other at once (no cache)", async () => {
    const { id, key } = await a.createKey({ name: name("shared"), scopes: ["run", "approve"] });
    expect(await b.verify(key)).toMatchObject({ id, name: name("shared") });
    expect((await b.list()).map((info) => info.id)).toContain(id);
    await b.revoke(id);
    // The documented delay is zero: the next verify on the other instance reads the revoked row.
    await expect(a.verify(key)).rejects.toBeInstanceOf(ApiKeyError);
    expect((await a.list()).find((info) => info.id === id)?.revokedAt).toEqual(expect.any(Number));
  });

  it("answers a wrong, unknown, malformed or revoked key with the same ApiKeyError", async () => {
    const { id, key } = await a.createKey({ name: name("wrong"), scopes: ["run"] });
    const wrongSecret = `ck_${id}_${"A".repeat(32)}`;
    const unknownId = `ck_${"f".repeat(12)}_${key.split("_")[2]}`;
    const errors: ApiKeyError[] = [];
    for (const attempt of [wrongSecret, unknownId, "not-a-key", ""]) {
      const error = await b.verify(attempt).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ApiKeyError);
      errors.push(error as ApiKeyError);
    }
    await a.revoke(id);
    const revoked = await b.verify(key).catch((caught: unknown) => caught);
    expect(revoked).toBeInstanceOf(ApiKeyError);
    errors.push(revoked as ApiKeyError);
    // Nothing in the error tells a wrong secret from a revoked key or an unknown id.
    expect(new Set(errors.map((error) => `${error.code} ${error.message}`)).size).toBe(1);
    expect(errors[0]!.status).toBe(401);
  });

  it("round-trips scopes and limits", async () => {
    const { id, key } = await a.createKey({ name: name("limited"), scopes: ["admin", "run", "run"], rateLimit: { requestsPerMinute: 60 }, quota: { requests: 1000 } });
    expect(await b.verify(key)).toEqual({ id, name: name("limited"), scopes: ["admin", "run"], rateLimit: { requestsPerMinute: 60 }, quota: { requests: 1000 } });
    const info = (await b.list()).find((entry) => entry.id === id)!;
    expect(info).toMatchObject({ rateLimit: { requestsPerMinute: 60 }, quota: { requests: 1000 } });
    expect(typeof info.createdAt).toBe("number");
    await expect(a.createKey({ name: name("bad"), scopes: ["root" as "run"] })).rejects.toThrow(/Unknown API key scope "root"/);
    await expect(a.createKey({ name: name("bad"), scopes: ["run"], quota: { requests: 0 } })).rejects.toThrow(/positive whole number/);
  });

  it("creates the table safely when several pools and processes start at once", async () => {
    // A private schema, so the table really is missing when they all start.
    const schema = `keys_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(DATABASE_URL!);
      url.searchParams.set("options", `-c search_path=${schema}`);
      const pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: url.toString(), max: 1 }));
      const stores = pools.map((pool) => new PostgresApiKeyStore(pool));
      const script = `import { PostgresApiKeyStore } from ${JSON.stringify(new URL("./postgres-keys.ts", import.meta.url).pathname)};
const store = new PostgresApiKeyStore(process.env.KEYS_URL);
await store.setup();
await store.close();`;
      const processes = Array.from({ length: 3 }, () =>
        new Promise<number>((resolve, reject) => {
          const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env: { ...process.env, KEYS_URL: url.toString() }, stdio: ["ignore", "ignore", "pipe"] });
          let stderr = "";
          child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
          child.on("error", reject);
          child.on("exit", (code) => (code === 0 ? resolve(code) : reject(new Error(`exit ${code}: ${stderr}`))));
        }),
      );
      try {
        await Promise.all([...stores.map((store) => store.setup()), ...processes]);
        const created = await stores[0]!.createKey({ name: "race", scopes: ["run"] });
        expect(await stores[5]!.verify(created.key)).toMatchObject({ id: created.id });
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    }
  }, 30_000);

  it("says the store is unavailable (503) instead of failing open when PostgreSQL does not answer", async () => {
    const store = new PostgresApiKeyStore("postgres://nobody:secret@127.0.0.1:1/none");
    try {
      const error = await store.verify(`ck_${"a".repeat(12)}_${"b".repeat(32)}`).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect((error as KeyStoreUnavailableError).status).toBe(503);
      expect((error as Error).message).not.toContain("secret");
      await expect(store.hasActiveKeys()).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
