import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers/cli.ts";

const url = process.env.DATABASE_URL;

describe.skipIf(!url)(`conclave on the PostgreSQL checkpoint store${url ? "" : " — SKIPPED: DATABASE_URL is unset"}`, () => {
  const env = () => ({ DATABASE_URL: url!, CONCLAVE_CHECKPOINT: "postgres" });

  it("runs, pauses for the answer's approval, resumes in another command and shows the history — all on PostgreSQL", async () => {
    const thread = `pg-${randomUUID()}`;
    const paused = await runCli(["run", "--approve-answer", "--thread", thread, "What is 17 * 23 + 4?"], { env: env() });
    expect(paused.code, paused.stderr).toBe(3);
    const approved = await runCli(["approve", thread, "--json"], { env: env() });
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ answer: "17 * 23 + 4 = 395. [tool:calculator]", review: { decision: "approved" } });
    const history = await runCli(["inspect", thread, "--json"], { env: env() });
    const checkpoints = (JSON.parse(history.stdout) as { checkpoints: Array<{ ran: string[] }> }).checkpoints;
    expect(checkpoints.at(-1)!.ran).toEqual(["review"]);
  });

  it("says where PostgreSQL was expected when it cannot be reached, without the password", async () => {
    const failed = await runCli(["run", "--thread", `pg-${randomUUID()}`, "What is 2 + 2?"], { env: { DATABASE_URL: "postgres://someone:hunter2-secret@127.0.0.1:1/nope", CONCLAVE_CHECKPOINT: "postgres" } });
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain("Cannot open the PostgreSQL checkpoint store at postgres://someone:***@127.0.0.1:1/nope");
    expect(failed.stderr).not.toContain("hunter2-secret");
  });
});
