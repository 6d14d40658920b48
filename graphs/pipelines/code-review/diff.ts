import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { ConclaveError } from "conclave";

/** The diff could not be read or holds no file changes. */
export class DiffInputError extends ConclaveError {
  override name = "DiffInputError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("DIFF_INPUT_INVALID", "user", message, { details });
  }
}

/** One line on the new side of a hunk. */
export interface NewLine {
  line: number;
  text: string;
  added: boolean;
}

/** One hunk: where it starts on the old side, and its lines in order (" " context, "+" added, "-" removed). */
export interface Hunk {
  oldStart: number;
  lines: Array<{ kind: " " | "+" | "-"; text: string }>;
}

/** One file of a unified diff: its hunks, and its new-side lines (context and added) and old-side lines (context and removed) by number. */
export interface FilePatch {
  path: string;
  oldPath?: string;
  status: "added" | "modified" | "deleted" | "renamed";
  hunks: Hunk[];
  newLines: NewLine[];
  oldLines: Array<{ line: number; text: string }>;
  binary: boolean;
}

/**
 * How the new file's text was obtained: "diff" (a new file: the diff holds all of it), "checkout"
 * (the workspace already has the new version), "patched" (the workspace has the old version; the
 * hunks were applied), "partial" (only the hunks are known; other lines are left blank, so line
 * numbers still match).
 */
export type ContentSource = "diff" | "checkout" | "patched" | "partial";

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** The diff's text: the task itself, or the `.diff` / `.patch` file it names (relative to `cwd`). */
export function loadDiff(source: string, cwd: string): string {
  const trimmed = source.trim();
  if (!trimmed.includes("\n") && /\.(?:diff|patch)$/i.test(trimmed)) {
    const path = isAbsolute(trimmed) ? trimmed : resolve(cwd, trimmed);
    if (!existsSync(path)) throw new DiffInputError(`No diff at "${trimmed}" (looked in ${path}). Pass the path of a unified diff, relative to the workspace, or the diff itself (git diff output).`, { path });
    return readFileSync(path, "utf8");
  }
  return source;
}

/** Parses `git diff` / `diff -u` output into per-file patches. */
export function parseUnifiedDiff(text: string): FilePatch[] {
  const files: FilePatch[] = [];
  let file: FilePatch | undefined;
  let oldLine = 0;
  let newLine = 0;
  // Lines still expected in the current hunk, from its header: inside a hunk "--- x" is a removed line, not a header.
  let oldLeft = 0;
  let newLeft = 0;
  const open = (path: string) => {
    file = { path, status: "modified", hunks: [], newLines: [], oldLines: [], binary: false };
    files.push(file);
    return file;
  };
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (file && (oldLeft > 0 || newLeft > 0) && /^[ +-]|^$/.test(raw)) {
      const kind = (raw[0] ?? " ") as " " | "+" | "-";
      const body = raw.slice(1);
      file.hunks.at(-1)!.lines.push({ kind, text: body });
      if (kind !== "-") file.newLines.push({ line: newLine++, text: body, added: kind === "+" });
      if (kind !== "+") file.oldLines.push({ line: oldLine++, text: body });
      if (kind !== "+") oldLeft--;
      if (kind !== "-") newLeft--;
      continue;
    }
    const hunk = HUNK.exec(raw);
    if (hunk && file) {
      [oldLine, oldLeft, newLine, newLeft] = [Number(hunk[1]), Number(hunk[2] ?? 1), Number(hunk[3]), Number(hunk[4] ?? 1)];
      file.hunks.push({ oldStart: oldLine, lines: [] });
    } else if (raw.startsWith("diff --git ")) {
      const paths = /^diff --git a\/(.+) b\/(.+)$/.exec(raw);
      open(paths?.[2] ?? "");
      if (paths && paths[1] !== paths[2]) Object.assign(file!, { oldPath: paths[1], status: "renamed" });
    } else if (raw.startsWith("--- ")) {
      // A plain `diff -u` has no "diff --git" line: its "---" starts the next file.
      if (!file || file.hunks.length) open(pathOf(raw));
      if (pathOf(raw) === "/dev/null") file!.status = "added";
      else if (pathOf(raw) !== file!.path && file!.path) file!.oldPath = pathOf(raw);
    } else if (raw.startsWith("+++ ") && file) {
      const path = pathOf(raw);
      if (path === "/dev/null") file.status = "deleted";
      else file.path = path;
      if (file.oldPath === file.path) delete file.oldPath;
    } else if (file && /^new file mode/.test(raw)) file.status = "added";
    else if (file && /^deleted file mode/.test(raw)) file.status = "deleted";
    else if (file && /^rename to /.test(raw)) Object.assign(file, { path: raw.slice("rename to ".length), status: "renamed" });
    else if (file && /^Binary files /.test(raw)) file.binary = true;
  }
  return files.filter((patch) => patch.path !== "" && patch.path !== "/dev/null");
}

/** "+++ b/src/a.ts\t2024-01-01 …" → "src/a.ts". */
function pathOf(header: string): string {
  const path = header.slice(4).split("\t")[0]!.trim();
  return path === "/dev/null" ? path : path.replace(/^[ab]\//, "");
}

/**
 * The new file's full text, as well as it can be known. Only files inside `cwd` are read (a diff
 * naming "../../etc/passwd" reads nothing), and a workspace file is used only when it matches the
 * diff line for line — as the new version, or as the old one to apply the hunks to.
 */
export function newContents(patch: FilePatch, cwd: string): { text: string; source: ContentSource } {
  if (patch.status === "added") return { text: patch.newLines.map((line) => line.text).join("\n"), source: "diff" };
  const workspace = readInside(cwd, patch.path) ?? (patch.oldPath ? readInside(cwd, patch.oldPath) : undefined);
  if (workspace) {
    const lines = workspace.split("\n");
    if (patch.newLines.every((line) => lines[line.line - 1] === line.text)) return { text: workspace, source: "checkout" };
    if (patch.oldLines.every((line) => lines[line.line - 1] === line.text)) return { text: applyHunks(lines, patch), source: "patched" };
  }
  const last = Math.max(0, ...patch.newLines.map((line) => line.line));
  const known = new Map(patch.newLines.map((line) => [line.line, line.text]));
  return { text: Array.from({ length: last }, (_, index) => known.get(index + 1) ?? "").join("\n"), source: "partial" };
}

/** The old file with the hunks applied: untouched lines are copied, each hunk replaces its old side with its new side. */
function applyHunks(oldLines: readonly string[], patch: FilePatch): string {
  const out: string[] = [];
  let next = 1;
  for (const hunk of patch.hunks) {
    while (next < hunk.oldStart) out.push(oldLines[next++ - 1]!);
    for (const line of hunk.lines) {
      if (line.kind !== "-") out.push(line.text);
      if (line.kind !== "+") next++;
    }
  }
  while (next <= oldLines.length) out.push(oldLines[next++ - 1]!);
  return out.join("\n");
}

function readInside(cwd: string, path: string): string | undefined {
  const full = resolve(cwd, path);
  const within = relative(cwd, full);
  if (within.startsWith("..") || isAbsolute(within)) return undefined;
  return existsSync(full) && statSync(full).isFile() ? readFileSync(full, "utf8") : undefined;
}
