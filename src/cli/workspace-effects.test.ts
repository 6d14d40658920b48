import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { SqliteEffectLedger } from "../persistence/effects.ts";
import { PostgresEffectLedger } from "../persistence/postgres-effects.ts";
import type { CliIO } from "./output.ts";
import { openWorkspace } from "./workspace.ts";

const url = process.env.DATABASE_URL;
const dirs: string[] = [];
const io = (env: NodeJS.ProcessEnv): CliIO => {
  const cwd = mkdtempSync(join(tmpdir(), "conclave-ws-"));
  dirs.push(cwd);
  return { stdout: () => undefined, stderr: () => undefined, env, cwd };
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("the workspace's effect ledger", () => {
  it("is the SQLite one beside the thread store when checkpoints are in SQLite", async () => {
    const workspace = await openWorkspace(io({}));
    try {
      expect(workspace.effects).toBeInstanceOf(SqliteEffectLedger);
    } finally {
      await workspace.close();
    }
  });

  it("does not stop a command that never touches it when PostgreSQL has no connection string", async () => {
    const workspace = await openWorkspace(io({ CONCLAVE_CHECKPOINT: "postgres" }));
    try {
      expect(workspace.threads).toBeDefined();
      expect(() => workspace.effects).toThrow(ConfigError);
    } finally {
      await workspace.close();
    }
  });
});

describe.skipIf(!url)(`the workspace's effect ledger on PostgreSQL${url ? "" : " — SKIPPED: DATABASE_URL is unset"}`, () => {
  it("is in PostgreSQL when checkpoints are, so two machines (two state folders) see each other's completed calls", async () => {
    const env = { DATABASE_URL: url!, CONCLAVE_CHECKPOINT: "postgres" };
    const machineA = await openWorkspace(io(env));
    const machineB = await openWorkspace(io(env));
    const key = `test:${randomUUID()}:workspace`;
    try {
      expect(machineA.effects).toBeInstanceOf(PostgresEffectLedger);
      await machineA.effects.begin(key, "send_mail", "thread");
      await machineA.effects.complete(key, "sent");
      expect(await machineB.effects.get(key)).toMatchObject({ status: "done", output: "sent" });
    } finally {
      const cleanup = new pg.Pool({ connectionString: url });
      await cleanup.query("DELETE FROM conclave_effects WHERE key = $1", [key]);
      await cleanup.end();
      await machineA.close();
      await machineB.close();
    }
    // close() ended the ledger's pool.
    await expect(Promise.resolve().then(() => machineA.effects.get(key))).rejects.toThrow();
  });
});
