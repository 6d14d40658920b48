import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { PostgresEffectLedger } from "./postgres-effects.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)(`PostgresEffectLedger on a real server${url ? "" : " — SKIPPED: DATABASE_URL is unset"}`, () => {
  // Two pools stand for two machines sharing one database.
  let first: pg.Pool;
  let second: pg.Pool;
  let ledger: PostgresEffectLedger;
  let other: PostgresEffectLedger;
  const prefix = `test:${randomUUID()}:`;
  const key = (name: string) => `${prefix}${name}`;

  beforeAll(async () => {
    first = new pg.Pool({ connectionString: url, max: 8 });
    second = new pg.Pool({ connectionString: url, max: 8 });
    ledger = new PostgresEffectLedger(first);
    other = new PostgresEffectLedger(second);
  });

  afterAll(async () => {
    await first.query("DELETE FROM conclave_effects WHERE key LIKE $1", [`${prefix}%`]).catch(() => undefined);
    await ledger.close();
    await other.close();
    await first.end();
    await second.end();
  });

  it("creates its table once even when several processes start at the same moment", async () => {
    // In a schema of its own, so the table is really missing when the four race to create it.
    const schema = `conclave_test_${randomUUID().replaceAll("-", "")}`;
    await first.query(`CREATE SCHEMA ${schema}`);
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` }));
    try {
      const ledgers = pools.map((pool) => new PostgresEffectLedger(pool));
      await Promise.all(ledgers.map((each) => each.setup()));
      await ledgers[0]!.begin("k", "pay", "t");
      expect(await ledgers[3]!.get("k")).toMatchObject({ attempts: 1 });
      const tables = await first.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'conclave_effects'", [schema]);
      expect(tables.rows[0].n).toBe(1);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
      await first.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it("begins, completes and answers a call from the ledger", async () => {
    const k = key("mail");
    expect(await ledger.get(k)).toBeUndefined();
    const begun = await ledger.begin(k, "send_mail", "thread-1");
    expect(begun).toMatchObject({ key: k, tool: "send_mail", status: "started", attempts: 1 });
    expect(begun.output).toBeUndefined();
    expect(typeof begun.startedAt).toBe("number");
    expect(Math.abs(begun.startedAt - Date.now())).toBeLessThan(60_000);
    await ledger.complete(k, "sent to ana");
    expect(await ledger.get(k)).toMatchObject({ key: k, status: "done", output: "sent to ana", attempts: 1 });
  });

  it("counts a call begun again after a crash as a second attempt", async () => {
    const k = key("crash");
    await ledger.begin(k, "pay", "thread-2");
    const again = await ledger.begin(k, "pay", "thread-2");
    expect(again).toMatchObject({ status: "started", attempts: 2 });
  });

  it("forgets a call that failed, but never one that completed", async () => {
    const failed = key("failed");
    await ledger.begin(failed, "pay", "thread-3");
    await ledger.forget(failed);
    expect(await ledger.get(failed)).toBeUndefined();
    expect(await ledger.begin(failed, "pay", "thread-3")).toMatchObject({ attempts: 1 });

    const done = key("done");
    await ledger.begin(done, "pay", "thread-3");
    await ledger.complete(done, "paid");
    await ledger.forget(done);
    expect(await ledger.get(done)).toMatchObject({ status: "done", output: "paid" });
  });

  it("lets a second machine see the calls the first one completed, and count its retries", async () => {
    const k = key("shared");
    await ledger.begin(k, "send_mail", "thread-4");
    expect(await other.get(k)).toMatchObject({ status: "started", attempts: 1 });
    expect(await other.begin(k, "send_mail", "thread-4")).toMatchObject({ attempts: 2 });
    await other.complete(k, "sent once");
    expect(await ledger.get(k)).toMatchObject({ status: "done", output: "sent once", attempts: 2 });
  });

  it("counts every one of 20 concurrent begins of one key, in one row", async () => {
    const k = key("race");
    const records = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? ledger : other).begin(k, "pay", "thread-5")));
    expect(records.map((record) => record.attempts).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await ledger.get(k)).toMatchObject({ attempts: 20 });
    const rows = await first.query("SELECT count(*)::int AS n FROM conclave_effects WHERE key = $1", [k]);
    expect(rows.rows[0].n).toBe(1);
  });

  it("ends the pool it opened from a connection string, and leaves a pool passed in open", async () => {
    const owned = new PostgresEffectLedger(url!);
    expect(await owned.get(key("nothing"))).toBeUndefined();
    await owned.close();
    await expect(owned.get(key("nothing"))).rejects.toThrow();
    await ledger.close();
    expect((await first.query("SELECT 1 AS one")).rows[0].one).toBe(1);
  });
});

describe("PostgresEffectLedger without a server", () => {
  it("says where it expected PostgreSQL, without the password", async () => {
    const ledger = new PostgresEffectLedger("postgres://someone:hunter2-secret@127.0.0.1:1/nope");
    try {
      const failure = await ledger.get("k").then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toContain("Cannot open the PostgreSQL effect ledger at postgres://someone:***@127.0.0.1:1/nope");
      expect((failure as Error).message).not.toContain("hunter2-secret");
    } finally {
      await ledger.close();
    }
  });
});
