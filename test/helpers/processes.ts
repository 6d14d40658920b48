import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

const BIN = join(ROOT, "src/cli/bin.js");

/** A `conclave` child process with what it printed so far. */
export interface CliProcess {
  process: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
  /** Waits until stderr matches (returns the match), or throws with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node src/cli/bin.js <args>` as its own process (real signals, real exits), as a user's shell would. */
export function spawnCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  const exit = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
  const handle: CliProcess = {
    process: child,
    stdout: "",
    stderr: "",
    exit,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = handle.stderr.match(pattern);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`conclave ${args[0]} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${handle.stderr}`);
        if (Date.now() > deadline) throw new Error(`conclave ${args[0]} did not print ${pattern} within ${timeoutMs} ms:\n${handle.stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  child.stdout!.on("data", (data: Buffer) => (handle.stdout += data.toString()));
  child.stderr!.on("data", (data: Buffer) => (handle.stderr += data.toString()));
  return handle;
}

/** Polls `probe` until it returns something truthy. */
export async function until<T>(probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
