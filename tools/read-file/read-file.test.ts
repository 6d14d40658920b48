import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ToolInputParsingException } from "@langchain/core/tools";
import { ToolExecutionError } from "conclave";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReadFileTool, resolveInside } from "./index.ts";

// Layout built once per file:
//   base/
//     outside-secret.txt         (outside the workspace root)
//     outside-dir/data.txt       (outside the workspace root)
//     root/                      (the workspace root)
//       notes.txt, docs/guide.md, big.txt
//       link-to-secret.txt -> ../outside-secret.txt
//       link-to-dir        -> ../outside-dir
//       link-inside.txt    -> notes.txt
let base: string;
let root: string;
const NOTES = "Remember to water the ferns on Tuesday.\n";
const GUIDE = "# Guide\n\nThe spare key is under the blue flowerpot.\n";

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-read-file-"));
  root = path.join(base, "root");
  fs.mkdirSync(path.join(root, "docs"), { recursive: true });
  fs.mkdirSync(path.join(base, "outside-dir"));
  fs.writeFileSync(path.join(base, "outside-secret.txt"), "TOP SECRET: the launch code is 0000\n");
  fs.writeFileSync(path.join(base, "outside-dir", "data.txt"), "outside data\n");
  fs.writeFileSync(path.join(root, "notes.txt"), NOTES);
  fs.writeFileSync(path.join(root, "docs", "guide.md"), GUIDE);
  fs.writeFileSync(path.join(root, "big.txt"), `${"a".repeat(19_990)}${"b".repeat(10_010)}`);
  fs.symlinkSync(path.join(base, "outside-secret.txt"), path.join(root, "link-to-secret.txt"));
  fs.symlinkSync(path.join(base, "outside-dir"), path.join(root, "link-to-dir"));
  fs.symlinkSync(path.join(root, "notes.txt"), path.join(root, "link-inside.txt"));
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

/** Invokes the tool with plain args and returns the rejection, failing the test if it resolves. */
async function rejection(args: unknown): Promise<Error> {
  const tool = createReadFileTool({ root });
  const outcome = await tool.invoke(args as never).then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected read_file(${JSON.stringify(args)}) to fail, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

describe("read_file: good input", () => {
  it("reads a file in the root and labels it with its path", async () => {
    const output = await createReadFileTool({ root }).invoke({ path: "notes.txt" });
    expect(output.startsWith("[file:notes.txt]")).toBe(true);
    expect(output).toContain(NOTES.trim());
  });

  it("reads a file in a subfolder", async () => {
    const output = await createReadFileTool({ root }).invoke({ path: "docs/guide.md" });
    expect(output.startsWith("[file:docs/guide.md]")).toBe(true);
    expect(output).toContain("The spare key is under the blue flowerpot.");
  });

  it("follows a symlink that stays inside the root", async () => {
    const output = await createReadFileTool({ root }).invoke({ path: "link-inside.txt" });
    expect(output.startsWith("[file:link-inside.txt]")).toBe(true);
    expect(output).toContain(NOTES.trim());
  });

  it("accepts a relative root and resolves it against the process cwd", async () => {
    const relativeRoot = path.relative(process.cwd(), root);
    const output = await createReadFileTool({ root: relativeRoot }).invoke({ path: "notes.txt" });
    expect(output).toContain(NOTES.trim());
  });

  it("truncates a large file and says so", async () => {
    const output: string = await createReadFileTool({ root }).invoke({ path: "big.txt" });
    // The file has 30,000 characters: 19,990 a's then 10,010 b's; only the first 20,000 may be shown.
    expect(output).toContain("a".repeat(19_990));
    expect(output).toContain("b".repeat(10));
    expect(output).not.toContain("b".repeat(11));
    expect(output).toMatch(/\[truncated: the file has 30000 characters; only the first 20000 are shown\]$/);
    expect(output.length).toBeLessThan(30_000);
  });

  it("does not add a truncation note to a small file", async () => {
    const output = await createReadFileTool({ root }).invoke({ path: "notes.txt" });
    expect(output).not.toContain("truncated");
  });
});

describe("read_file: bad input", () => {
  it.each(["../secret.txt", "a/../../x", "docs/../../outside-secret.txt", "..\\outside-secret.txt"])("rejects %s because it contains ..", async (bad) => {
    const error = await rejection({ path: bad });
    expect(error).toBeInstanceOf(ToolExecutionError);
    expect(error.message).toContain(`"${bad}"`);
    expect(error.message).toMatch(/contains "\.\."/);
  });

  it("rejects an absolute path, even one that exists", async () => {
    const error = await rejection({ path: "/etc/passwd" });
    expect(error).toBeInstanceOf(ToolExecutionError);
    expect(error.message).toMatch(/"\/etc\/passwd" is an absolute path/);
    expect(error.message).toMatch(/relative to the workspace root/);
  });

  it("rejects an absolute path that points inside the root too", async () => {
    const error = await rejection({ path: path.join(root, "notes.txt") });
    expect(error.message).toMatch(/absolute path/);
  });

  it("rejects a symlink inside the root that points to a file outside", async () => {
    const error = await rejection({ path: "link-to-secret.txt" });
    expect(error).toBeInstanceOf(ToolExecutionError);
    expect(error.message).toMatch(/"link-to-secret\.txt" is a link that points outside the workspace/);
    expect(error.message).not.toContain("TOP SECRET");
  });

  it("rejects a file reached through a symlinked folder outside the root", async () => {
    const error = await rejection({ path: "link-to-dir/data.txt" });
    expect(error.message).toMatch(/points outside the workspace/);
    expect(error.message).not.toContain("outside data");
  });

  it("rejects the symlinked outside folder itself", async () => {
    const error = await rejection({ path: "link-to-dir" });
    expect(error.message).toMatch(/points outside the workspace/);
  });

  it("reports a missing file by name", async () => {
    const error = await rejection({ path: "docs/missing.md" });
    expect(error).toBeInstanceOf(ToolExecutionError);
    expect(error.message).toMatch(/There is no file "docs\/missing\.md" in the workspace/);
  });

  it("reports a folder given instead of a file", async () => {
    const error = await rejection({ path: "docs" });
    expect(error).toBeInstanceOf(ToolExecutionError);
    expect(error.message).toMatch(/"docs" is a folder, not a file/);
  });

  it("rejects a NUL byte in the path", async () => {
    const error = await rejection({ path: "notes.txt\0.png" });
    expect(error.message).toMatch(/NUL byte/);
  });

  it("errors carry the tool name and the TOOL_FAILED code", async () => {
    const error = await rejection({ path: "../secret.txt" });
    expect(error).toMatchObject({ code: "TOOL_FAILED", category: "user", details: { tool: "read_file" } });
  });

  // Regression: the "outside the root" check once refused names that merely start with "..".
  it("reads a file inside the root whose name starts with two dots", async () => {
    fs.writeFileSync(path.join(root, "..notes.txt"), "dotted name\n");
    const output = await createReadFileTool({ root }).invoke({ path: "..notes.txt" });
    expect(output).toContain("dotted name");
  });
});

describe("resolveInside", () => {
  it("returns the real path of a file inside the root", () => {
    expect(resolveInside(root, "docs/guide.md")).toBe(fs.realpathSync(path.join(root, "docs", "guide.md")));
  });

  it("resolves an inside symlink to its target", () => {
    expect(resolveInside(root, "link-inside.txt")).toBe(fs.realpathSync(path.join(root, "notes.txt")));
  });

  it("throws ToolExecutionError for an escaping path", () => {
    expect(() => resolveInside(root, "a/../../x")).toThrow(ToolExecutionError);
    expect(() => resolveInside(root, "link-to-secret.txt")).toThrow(/outside the workspace/);
  });
});

describe("read_file as the agent loop calls it", () => {
  it("returns the observation for a valid tool call", async () => {
    const tool = createReadFileTool({ root });
    const output: unknown = await tool.invoke({ name: "read_file", args: { path: "notes.txt" }, id: "call_0", type: "tool_call" });
    // A tool call gets a ToolMessage back, paired to the call id.
    expect(output).toMatchObject({ tool_call_id: "call_0" });
    expect(String((output as { content: unknown }).content)).toContain("[file:notes.txt]");
  });

  it("rejects a tool call that escapes the root with the reason", async () => {
    const tool = createReadFileTool({ root });
    await expect(tool.invoke({ name: "read_file", args: { path: "../x" }, id: "call_1", type: "tool_call" })).rejects.toThrow(/"\.\.\/x" contains "\.\."/);
  });

  it("rejects arguments that do not match the schema", async () => {
    const tool = createReadFileTool({ root });
    const call = tool.invoke({ name: "read_file", args: { path: 42 }, id: "call_2", type: "tool_call" } as never);
    await expect(call).rejects.toBeInstanceOf(ToolInputParsingException);
    await expect(call).rejects.toThrow(/did not match expected schema/);
    // The details name the offending field, so the model can fix its call.
    await expect(call).rejects.toThrow(/path/);
  });

  it("rejects an empty path through the schema", async () => {
    await expect(rejection({ path: "" })).resolves.toBeInstanceOf(ToolInputParsingException);
  });
});
