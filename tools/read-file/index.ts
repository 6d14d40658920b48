import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { ToolExecutionError, defineTool } from "conclave";
import { z } from "zod";

const MAX_CHARS = 20_000;

/** Resolves `path` inside `root`, rejecting anything that could leave it: absolute paths, `..`, and symlinks pointing out. */
export function resolveInside(root: string, path: string): string {
  if (path.includes("\0")) throw new ToolExecutionError("read_file", "The path contains a NUL byte. Give a plain relative path.");
  if (isAbsolute(path) || /^[a-zA-Z]:[\\/]/.test(path)) {
    throw new ToolExecutionError("read_file", `"${path}" is an absolute path. Give a path relative to the workspace root, e.g. "notes/plan.md".`);
  }
  if (path.split(/[\\/]+/).includes("..")) {
    throw new ToolExecutionError("read_file", `"${path}" contains "..". Only files inside the workspace root can be read; give a path without "..".`);
  }
  if (!existsSync(root)) throw new ToolExecutionError("read_file", `The workspace root ${root} does not exist. Set "workspace" in conclave.config.json (or CONCLAVE_WORKSPACE) to an existing folder.`);
  const realRoot = realpathSync(root);
  const candidate = resolve(realRoot, path);
  if (!existsSync(candidate)) throw new ToolExecutionError("read_file", `There is no file "${path}" in the workspace. Check the name; paths are relative to the workspace root.`);
  const real = realpathSync(candidate);
  const inside = relative(realRoot, real);
  if (inside.split(sep)[0] === ".." || isAbsolute(inside)) {
    throw new ToolExecutionError("read_file", `"${path}" is a link that points outside the workspace. Only files inside the workspace root can be read.`);
  }
  if (!statSync(real).isFile()) throw new ToolExecutionError("read_file", `"${path}" is a folder, not a file. Give the path of a file inside it.`);
  return real;
}

/**
 * The `read_file` tool: reads a text file inside `root` and returns it as `[file:path]` followed
 * by its text, so an answer can cite it. Large files are cut at 20,000 characters (said so).
 */
export function createReadFileTool(options: { root: string }) {
  const root = resolve(options.root);
  return defineTool({
    name: "read_file",
    description: "Reads a text file from the workspace folder and returns its contents. Give a path relative to the workspace root.",
    schema: z.object({ path: z.string().min(1).max(1_000).describe("File path relative to the workspace root, e.g. docs/notes.md") }),
    run: ({ path }, context) => {
      const file = resolveInside(root, path);
      const text = readFileSync(file, "utf8");
      context.accessed("file", path);
      const clipped = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}\n[truncated: the file has ${text.length} characters; only the first ${MAX_CHARS} are shown]` : text;
      return `[file:${path}] ${clipped}`;
    },
  });
}
