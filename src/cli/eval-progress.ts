import type { EvalProgress } from "../eval/runner.ts";

/**
 * A progress bar on stderr for an eval run: redrawn in place on a terminal, one line per 10% when
 * stderr is a file or a pipe (CI logs). Shows samples done, errors, running means, cost and ETA.
 */
export function evalProgressPrinter(write: (text: string) => void, options: { tty: boolean; label: string }): { update(progress: EvalProgress): void; end(): void } {
  const startedAt = Date.now();
  let lastDecile = -1;
  let drawn = false;
  const line = (progress: EvalProgress) => {
    const share = progress.total ? progress.done / progress.total : 1;
    const width = 24;
    const bar = `${"█".repeat(Math.round(share * width))}${"░".repeat(width - Math.round(share * width))}`;
    const means = Object.entries(progress.means).slice(0, 3).map(([name, mean]) => `${name} ${mean.toFixed(3)}`).join(" · ");
    const elapsed = (Date.now() - startedAt) / 1000;
    const eta = progress.done ? Math.max(0, (elapsed / progress.done) * (progress.total - progress.done)) : 0;
    return `${options.label} ${bar} ${progress.done}/${progress.total}${progress.errors ? ` · ${progress.errors} errors` : ""}${means ? ` · ${means}` : ""}${progress.costUsd ? ` · $${progress.costUsd.toFixed(4)}` : ""} · ${elapsed.toFixed(1)}s${progress.done < progress.total ? ` · ETA ${eta.toFixed(0)}s` : ""}`;
  };
  return {
    update(progress) {
      if (options.tty) {
        write(`\r\x1b[2K${line(progress)}`);
        drawn = true;
        return;
      }
      const decile = Math.floor((progress.done / Math.max(1, progress.total)) * 10);
      if (decile !== lastDecile || progress.done === progress.total) {
        lastDecile = decile;
        write(`${line(progress)}\n`);
      }
    },
    end() {
      if (drawn) write("\n");
    },
  };
}
