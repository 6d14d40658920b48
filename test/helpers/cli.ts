import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import type { CliIO } from "../../src/cli/output.ts";

/** The repository root, where langgraph.json and conclave.config.json register the bundled graphs. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This test file's run state (threads, checkpoints, logs, audit log): fresh per test file, so thread ids never collide with an earlier test run. */
export const STATE_DIR = mkdtempSync(join(tmpdir(), "conclave-state-"));

/** The environment without provider or Conclave settings, so a test starts from the offline defaults (with this file's own state folder). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OPENAI_") && !key.startsWith("CONCLAVE_") && key !== "DATABASE_URL"));
  return { ...base, CONCLAVE_STATE_DIR: STATE_DIR, ...extra };
}

/** Runs the `conclave` CLI in this process, capturing what it writes, as a user's terminal would see it. */
export async function runCli(argv: string[], options: { env?: Record<string, string>; cwd?: string; signal?: AbortSignal } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text), env: cleanEnv(options.env), cwd: options.cwd ?? ROOT };
  const code = await main(argv, io, options.signal ?? new AbortController().signal);
  return { code, stdout, stderr };
}
