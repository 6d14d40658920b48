import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { FolderSourceConfig } from "./config.ts";
import { PollFetchError } from "./errors.ts";
import type { PollSource, SourceBatch } from "./types.ts";

/**
 * The files directly in `config.path` (not in sub-folders) whose names end with one of
 * `config.suffixes`; dot-files are skipped (editors' lock and swap files). Each file is one item:
 * its id is the file name, its hash the sha256 of its bytes, its input the UTF-8 text, prefixed
 * with `File: <name>` and a blank line when `includeFileName` is set.
 *
 * Files are read one at a time with fs/promises, so a large folder never blocks the event loop
 * for longer than hashing one file (at most `maxBytes`).
 */
export function folderSource(config: FolderSourceConfig, now: () => number): PollSource {
  const folder = resolve(config.path);
  const suffixes = config.suffixes.map((suffix) => suffix.toLowerCase());

  async function list(): Promise<string[]> {
    try {
      const entries = await readdir(folder, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() && !entry.name.startsWith(".") && suffixes.some((suffix) => entry.name.toLowerCase().endsWith(suffix)))
        .map((entry) => entry.name)
        .sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === "ENOENT" ? "does not exist; create it or fix the source's path" : code === "ENOTDIR" ? "is not a folder; point path at a folder" : `cannot be listed (${(error as Error).message})`;
      throw new PollFetchError(config.name, `folder ${folder} ${hint}.`, { details: { path: folder }, cause: error });
    }
  }

  return {
    paged: false,
    async fetch({ signal }): Promise<SourceBatch> {
      const batch: SourceBatch = { items: [], failures: [], pending: [], snapshot: true };
      for (const name of await list()) {
        signal.throwIfAborted();
        const file = join(folder, name);
        try {
          const info = await stat(file);
          if (info.size > config.maxBytes) {
            batch.failures.push({ itemId: name, reason: `file is ${info.size} bytes, over the source's maxBytes (${config.maxBytes}); split it or raise maxBytes` });
            continue;
          }
          if (now() - info.mtimeMs < config.minAgeMs) {
            batch.pending.push(name);
            continue;
          }
          const bytes = await readFile(file, { signal });
          // It may have grown between stat and read.
          if (bytes.length > config.maxBytes) {
            batch.failures.push({ itemId: name, reason: `file is ${bytes.length} bytes, over the source's maxBytes (${config.maxBytes}); split it or raise maxBytes` });
            continue;
          }
          const text = bytes.toString("utf8");
          batch.items.push({ itemId: name, hash: createHash("sha256").update(bytes).digest("hex"), input: config.includeFileName ? `File: ${name}\n\n${text}` : text });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // deleted since the listing: it is gone
          if (signal.aborted) throw error;
          batch.failures.push({ itemId: name, reason: `cannot be read (${(error as Error).message})` });
        }
      }
      return batch;
    },
  };
}
