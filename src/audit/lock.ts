import fs from "node:fs";
import { AuditLogError } from "./errors.ts";

export interface FileLockOptions {
  /** A lock file older than this is left over from a crashed process and is taken over (default 5 s). */
  staleMs?: number;
  /** Give up after waiting this long for the lock (default 10 s). */
  timeoutMs?: number;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` while holding `lockPath`, a file created with O_EXCL so only one process (or AuditLog)
 * holds it at a time. Waits with short randomised sleeps; takes over a lock older than `staleMs`.
 * Synchronous on purpose: appends are small and must not interleave with other work.
 */
export function withFileLock<T>(lockPath: string, fn: () => T, options: FileLockOptions = {}): T {
  const staleMs = options.staleMs ?? 5_000;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    let fd: number | undefined;
    try {
      fd = fs.openSync(lockPath, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, `${process.pid} ${new Date().toISOString()}\n`);
      } finally {
        fs.closeSync(fd);
      }
      try {
        return fn();
      } finally {
        fs.rmSync(lockPath, { force: true });
      }
    }
    if (isStale(lockPath, staleMs)) {
      // Rename first: of several processes that find the same stale lock, only one rename succeeds.
      const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        fs.renameSync(lockPath, aside);
        fs.rmSync(aside, { force: true });
      } catch {
        // Someone else took it over first.
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new AuditLogError("AUDIT_LOG_LOCKED", `Could not lock ${lockPath}: another process held it for over ${options.timeoutMs ?? 10_000} ms. If no Conclave process is running, delete that lock file.`, { details: { lockPath } }, "system");
    }
    Atomics.wait(pause, 0, 0, 2 + Math.random() * 8);
  }
}

function isStale(lockPath: string, staleMs: number): boolean {
  try {
    return Date.now() - fs.statSync(lockPath).mtimeMs > staleMs;
  } catch {
    return false; // Released meanwhile: try again at once.
  }
}
