import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiffInputError, loadDiff, newContents, parseUnifiedDiff } from "./diff.ts";

const OLD = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
const NEW = ["one", "two", "THREE", "three and a half", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"];
const DIFF = `diff --git a/notes.ts b/notes.ts
index 1111111..2222222 100644
--- a/notes.ts
+++ b/notes.ts
@@ -2,3 +2,4 @@
 two
-three
+THREE
+three and a half
 four
@@ -9,2 +10,3 @@
 nine
 ten
+eleven
`;

function workspace(files: Record<string, string>): string {
  const cwd = mkdtempSync(join(tmpdir(), "conclave-diff-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(cwd, path, ".."), { recursive: true });
    writeFileSync(join(cwd, path), text);
  }
  return cwd;
}

describe("parseUnifiedDiff", () => {
  it("numbers added and context lines on the new side, and removed lines on the old side", () => {
    const [file] = parseUnifiedDiff(DIFF);
    expect(file).toMatchObject({ path: "notes.ts", status: "modified", binary: false });
    expect(file!.newLines.filter((line) => line.added)).toEqual([
      { line: 3, text: "THREE", added: true },
      { line: 4, text: "three and a half", added: true },
      { line: 12, text: "eleven", added: true },
    ]);
    expect(file!.oldLines.find((line) => line.text === "three")).toEqual({ line: 3, text: "three" });
  });

  it("reads new, deleted, renamed and binary files, and plain diff -u output", () => {
    const git = `diff --git a/new.ts b/new.ts
new file mode 100644
--- /dev/null
+++ b/new.ts
@@ -0,0 +1,2 @@
+export const a = 1;
+export const b = 2;
diff --git a/gone.ts b/gone.ts
deleted file mode 100644
--- a/gone.ts
+++ /dev/null
@@ -1 +0,0 @@
-export const c = 3;
diff --git a/old-name.ts b/new-name.ts
similarity index 90%
rename from old-name.ts
rename to new-name.ts
diff --git a/logo.png b/logo.png
Binary files a/logo.png and b/logo.png differ
`;
    expect(parseUnifiedDiff(git).map((file) => [file.path, file.status, file.binary, file.newLines.length])).toEqual([
      ["new.ts", "added", false, 2],
      ["gone.ts", "deleted", false, 0],
      ["new-name.ts", "renamed", false, 0],
      ["logo.png", "modified", true, 0],
    ]);
    const plain = "--- lib/a.js\t2024-05-01 10:00:00\n+++ lib/a.js\t2024-05-02 10:00:00\n@@ -1 +1 @@\n-var x = 1;\n+let x = 1;\n";
    expect(parseUnifiedDiff(plain)).toEqual([expect.objectContaining({ path: "lib/a.js", status: "modified", newLines: [{ line: 1, text: "let x = 1;", added: true }] })]);
  });

  it("takes a removed line that starts with '-- ' for a removed line, not a new file's header", () => {
    const sql = "diff --git a/q.sql b/q.sql\n--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1,1 @@\n--- old comment\n SELECT 1;\n";
    const files = parseUnifiedDiff(sql);
    expect(files).toHaveLength(1);
    expect(files[0]!.oldLines).toEqual([
      { line: 1, text: "-- old comment" },
      { line: 2, text: "SELECT 1;" },
    ]);
  });

  it("ignores a commit message before the first file, as in git format-patch", () => {
    expect(parseUnifiedDiff(`From: A <a@example.com>\nSubject: [PATCH] x\n\nWhy.\n---\n${DIFF}`).map((file) => file.path)).toEqual(["notes.ts"]);
  });
});

describe("newContents", () => {
  const [patch] = parseUnifiedDiff(DIFF);

  it("applies the hunks to the old version when the workspace has it", () => {
    expect(newContents(patch!, workspace({ "notes.ts": OLD.join("\n") }))).toEqual({ text: NEW.join("\n"), source: "patched" });
  });

  it("uses the workspace file as it is when it already is the new version", () => {
    expect(newContents(patch!, workspace({ "notes.ts": NEW.join("\n") }))).toEqual({ text: NEW.join("\n"), source: "checkout" });
  });

  it("otherwise keeps only the hunks, with blank lines where the diff shows nothing, so line numbers still match", () => {
    const { text, source } = newContents(patch!, workspace({ "notes.ts": "something else entirely" }));
    expect(source).toBe("partial");
    expect(text.split("\n")).toEqual(["", "two", "THREE", "three and a half", "four", "", "", "", "", "nine", "ten", "eleven"]);
  });

  it("never reads outside the workspace", () => {
    const outside = workspace({ "secret.ts": OLD.join("\n") });
    const [escaping] = parseUnifiedDiff(DIFF.replaceAll("notes.ts", `../${outside.split("/").at(-1)}/secret.ts`));
    expect(newContents(escaping!, workspace({})).source).toBe("partial");
  });
});

describe("loadDiff", () => {
  it("reads a .diff named by the task, and says where it looked when it is missing", () => {
    const cwd = workspace({ "change.diff": DIFF });
    expect(loadDiff("change.diff", cwd)).toBe(DIFF);
    expect(loadDiff(DIFF, cwd)).toBe(DIFF);
    expect(() => loadDiff("missing.patch", cwd)).toThrow(DiffInputError);
    expect(() => loadDiff("missing.patch", cwd)).toThrow(/No diff at "missing.patch"/);
  });
});
