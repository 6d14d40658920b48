import { describe, expect, it } from "vitest";
import { lintChangedFiles } from "./lint.ts";
import { decideVerdict } from "./review.ts";
import { SECURITY_RULES, scanAddedLines } from "./security.ts";
import type { ChangedFile, Finding } from "./state.ts";

const file = (text: string, added: number[], source: ChangedFile["source"] = "checkout", path = "src/a.ts"): ChangedFile => ({ path, status: "modified", text, source, added });

describe("lintChangedFiles (ESLint 9, recommended + typescript-eslint, in memory)", () => {
  const text = ["const before = 1;", "export function f(input: string) {", "  const unused = input.length;", "  return input;", "}"].join("\n");

  it("reports a rule's problem on an added line with its line number, and nothing on unchanged lines", async () => {
    const { findings } = await lintChangedFiles([file(text, [3])], process.cwd());
    expect(findings).toEqual([{ source: "eslint", rule: "@typescript-eslint/no-unused-vars", severity: "error", file: "src/a.ts", line: 3, message: "'unused' is assigned a value but never used." }]);
  });

  it("keeps a whole-file rule's finding in a partial file, as a warning", async () => {
    const { findings } = await lintChangedFiles([file(text, [1, 3], "partial")], process.cwd());
    expect(findings.map((finding) => [finding.line, finding.severity])).toEqual([
      [1, "warning"],
      [3, "warning"],
    ]);
    expect(findings[0]!.message).toContain("the diff shows only part of the file");
  });

  it("lints plain JavaScript too (no-undef knows Node's globals), and skips files it cannot parse as code", async () => {
    const js = file("console.log(proces.env.HOME);\n", [1], "diff", "lib/b.js");
    const { findings } = await lintChangedFiles([js, file("# Title\n", [1], "diff", "README.md")], process.cwd());
    expect(findings).toEqual([expect.objectContaining({ rule: "no-undef", line: 1, message: "'proces' is not defined." })]);
  });

  it("reports a syntax error on an added line of a complete file, and only notes it in a partial one", async () => {
    const broken = "export const a = ;\n";
    expect((await lintChangedFiles([file(broken, [1], "diff")], process.cwd())).findings).toEqual([expect.objectContaining({ rule: "parse-error", line: 1, severity: "error" })]);
    const partial = await lintChangedFiles([file(broken, [1], "partial")], process.cwd());
    expect(partial.findings).toEqual([]);
    expect(partial.notes[0]).toContain("not fully checked");
  });
});

describe("scanAddedLines", () => {
  const rules = (line: string, whole = line) => scanAddedLines([file(whole, [whole.split("\n").indexOf(line) + 1])]).map((finding) => finding.rule);

  it("finds each rule's problem on an added line", () => {
    expect(rules("const value = eval(input);")).toEqual(["security/no-eval"]);
    expect(rules("const f = new Function('a', body);")).toEqual(["security/no-eval"]);
    expect(rules("execSync(`git log ${branch}`);")).toEqual(["security/exec-interpolation"]);
    expect(rules('cp.exec("rm -rf " + dir);')).toEqual(["security/exec-interpolation"]);
    const aliased = 'const sh = promisify(exec);\nawait sh(`tar -czf ${name}`);';
    expect(rules("await sh(`tar -czf ${name}`);", aliased)).toEqual(["security/exec-interpolation"]);
    expect(rules('const key = "sk-abcdefghijklmnopqrstuvwxyz012345";')).toEqual(["security/hard-coded-secret"]);
    expect(rules('headers.Authorization = "Bearer abcdef0123456789";')).toEqual(["security/hard-coded-secret"]);
    expect(rules('const dbPassword = "hunter2hunter2";')).toEqual(["security/hard-coded-secret"]);
    expect(rules('fetch("http://api.example.org/v1")')).toEqual(["security/insecure-url"]);
    expect(rules("const agent = new Agent({ rejectUnauthorized: false });")).toEqual(["security/tls-verification-disabled"]);
    expect(rules('process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";')).toEqual(["security/tls-verification-disabled"]);
  });

  it("leaves safe look-alikes alone", () => {
    expect(rules("const match = pattern.exec(`${text}`);")).toEqual([]);
    expect(rules('execFile("git", ["log", branch]);')).toEqual([]);
    expect(rules("const model = evaluate(input);")).toEqual([]);
    expect(rules('const password = process.env.DB_PASSWORD ?? "";')).toEqual([]);
    expect(rules('const apiKey = "your-api-key-here";')).toEqual([]);
    expect(rules('const local = "http://localhost:3000/health";')).toEqual([]);
    expect(rules('const ns = "http://www.w3.org/2000/svg";')).toEqual([]);
    // Comments may mention eval or an http URL; a secret in a comment still leaks.
    expect(rules("// never call eval( on user input, see http://example.org")).toEqual([]);
    expect(rules("// token: sk-abcdefghijklmnopqrstuvwxyz012345")).toEqual(["security/hard-coded-secret"]);
  });

  it("checks only added lines, and never quotes a secret back", () => {
    const text = 'const old = eval("1");\nconst key = "sk-abcdefghijklmnopqrstuvwxyz012345";';
    const findings = scanAddedLines([file(text, [2])]);
    expect(findings.map((finding) => [finding.rule, finding.line])).toEqual([["security/hard-coded-secret", 2]]);
    expect(JSON.stringify(findings)).not.toContain("sk-abcdef");
  });

  it("runs the rules it is given", () => {
    const noTodo = { id: "team/no-todo", severity: "warning" as const, check: (line: string) => (line.includes("TODO") ? "Open a ticket instead of a TODO." : undefined) };
    expect(scanAddedLines([file("x(); // TODO later", [1])], [...SECURITY_RULES, noTodo]).map((finding) => finding.rule)).toEqual(["team/no-todo"]);
  });
});

describe("decideVerdict", () => {
  const at = (source: Finding["source"], severity: Finding["severity"], rule = "r"): Finding => ({ source, rule, severity, file: "src/a.ts", line: 3, message: "m" });
  const review = (verdict: "approve" | "request-changes" | "block") => ({ verdict, summary: "Looks fine.", comments: [] });

  it("blocks on any security finding, whatever the model says", () => {
    const verdict = decideVerdict([at("security", "error", "security/insecure-url")], review("approve"));
    expect(verdict.verdict).toBe("block");
    expect(verdict.reasons[0]).toBe("1 security finding(s) on added lines: security/insecure-url at src/a.ts:3");
    expect(verdict.reasons).toContain("the model reviewer says approve: Looks fine.");
  });

  it("asks for changes on an ESLint error, approves with warnings only, and lets the model raise but not lower", () => {
    expect(decideVerdict([at("eslint", "error")], review("approve")).verdict).toBe("request-changes");
    expect(decideVerdict([at("eslint", "warning")], review("approve"))).toMatchObject({ verdict: "approve", counts: { lintWarnings: 1 } });
    const raised = decideVerdict([], review("request-changes"));
    expect(raised.verdict).toBe("request-changes");
    expect(raised.reasons).toContain("the model reviewer says request-changes (this raised the verdict): Looks fine.");
    expect(decideVerdict([], undefined)).toMatchObject({ verdict: "approve", reasons: ["no security findings and no ESLint errors on added lines", "no model review; the verdict rests on the static checks"] });
  });
});
