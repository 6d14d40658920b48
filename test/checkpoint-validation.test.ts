// LangGraph's official checkpointer conformance suite (@langchain/langgraph-checkpoint-validation),
// run against every saver createCheckpointer() configures: SQLite, memory and, when DATABASE_URL
// is set, PostgreSQL. Each test gets a checkpointer with fresh storage, as the suite requires.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import type { CheckpointSaverTestInitializer } from "@langchain/langgraph-checkpoint-validation";
import pg from "pg";
import * as vitest from "vitest";
import { createCheckpointer } from "../src/persistence/checkpointer.ts";
import type { Checkpointer, CheckpointerSettings } from "../src/persistence/checkpointer.ts";

const { afterAll, beforeAll, describe, expect, it } = vitest;

// The suite calls describe/it/expect/beforeEach… as globals. Provide vitest's own functions (the
// ones `globals: true` would install) before loading it, so the project config can stay as it is.
Object.assign(globalThis, {
  describe: vitest.describe,
  it: vitest.it,
  test: vitest.test,
  expect: vitest.expect,
  beforeAll: vitest.beforeAll,
  afterAll: vitest.afterAll,
  beforeEach: vitest.beforeEach,
  afterEach: vitest.afterEach,
  vi: vitest.vi,
});
const { validate } = await import("@langchain/langgraph-checkpoint-validation");

/**
 * An initializer whose checkpointers come from Conclave's createCheckpointer(). `storage()` gives
 * each checkpointer its settings and a cleanup that removes that storage once it is closed.
 * Names the suite keys its documented skips on ("MemorySaver", the sqlite package) are kept.
 */
function conclaveInitializer(
  checkpointerName: string,
  storage: () => Promise<{ settings: CheckpointerSettings; env?: NodeJS.ProcessEnv; cleanup?: () => Promise<void> | void }>,
  hooks: { beforeAll?: () => Promise<void> | void; afterAll?: () => Promise<void> | void } = {},
): CheckpointSaverTestInitializer<BaseCheckpointSaver> {
  const open = new Map<BaseCheckpointSaver, { checkpointer: Checkpointer; cleanup?: () => Promise<void> | void }>();
  return {
    checkpointerName,
    ...hooks,
    async createCheckpointer() {
      const { settings, env, cleanup } = await storage();
      const checkpointer = await createCheckpointer(settings, { cwd: process.cwd(), env: env ?? {} });
      expect(checkpointer.backend).toBe(settings.backend);
      open.set(checkpointer.saver, { checkpointer, cleanup });
      return checkpointer.saver;
    },
    async destroyCheckpointer(saver) {
      const entry = open.get(saver);
      open.delete(saver);
      await entry?.checkpointer.close();
      await entry?.cleanup?.();
    },
  };
}

describe("checkpoint.backend sqlite (a temporary file per checkpointer)", () => {
  let dir = "";
  let count = 0;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "conclave-checkpoint-validation-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  validate(
    conclaveInitializer("@langchain/langgraph-checkpoint-sqlite", async () => {
      const path = join(dir, `checkpoints-${++count}.sqlite`);
      return { settings: { backend: "sqlite", path }, cleanup: () => ["", "-wal", "-shm"].forEach((suffix) => rmSync(path + suffix, { force: true })) };
    }),
  );
});

describe("checkpoint.backend memory", () => {
  validate(conclaveInitializer("MemorySaver", async () => ({ settings: { backend: "memory" } })));
});

const databaseUrl = process.env.DATABASE_URL;
describe.skipIf(!databaseUrl)(
  databaseUrl
    ? "checkpoint.backend postgres (a temporary database per checkpointer, on DATABASE_URL's server)"
    : "checkpoint.backend postgres — SKIPPED: DATABASE_URL is unset (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)",
  () => {
    if (!databaseUrl) {
      it("needs a PostgreSQL server in DATABASE_URL", () => undefined);
      return;
    }
    // createCheckpointer() always uses PostgresSaver's "public" schema, so isolation is by database:
    // each checkpointer gets a database of its own, created here and dropped when it is destroyed.
    // The names carry a per-run prefix, so repeated or concurrent runs never share state.
    const prefix = `conclave_cv_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}_`;
    let admin: pg.Client | undefined;
    let count = 0;
    const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
    // The closed pool's sessions end just after pool.end() resolves: wait for them rather than
    // DROP … WITH (FORCE), which would kill them and surface as uncaught "terminating connection".
    async function dropDatabase(database: string) {
      for (let attempt = 0; attempt < 100; attempt++) {
        const { rows } = await admin!.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [database]);
        if (rows[0]?.n === 0) break;
        await new Promise((done) => setTimeout(done, 20));
      }
      await admin!.query(`DROP DATABASE IF EXISTS ${quoted(database)}`);
    }
    validate(
      conclaveInitializer(
        "@langchain/langgraph-checkpoint-postgres",
        async () => {
          const database = `${prefix}${++count}`;
          await admin!.query(`CREATE DATABASE ${quoted(database)}`);
          const url = new URL(databaseUrl);
          url.pathname = `/${database}`;
          return { settings: { backend: "postgres" }, env: { DATABASE_URL: url.toString() }, cleanup: () => dropDatabase(database) };
        },
        {
          async beforeAll() {
            admin = new pg.Client({ connectionString: databaseUrl });
            await admin.connect();
          },
          async afterAll() {
            if (!admin) return;
            // Databases a failed test left behind.
            const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
            for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${quoted(datname)} WITH (FORCE)`);
            await admin.end();
          },
        },
      ),
    );
  },
);
