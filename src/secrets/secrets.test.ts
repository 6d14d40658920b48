import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecretsError } from "./errors.ts";
import { loadSecrets, parseSecretsFile } from "./secrets.ts";

const temps: string[] = [];

/** A temp working folder, with `.conclave/secrets.env` holding `contents` when given. */
function workspace(contents?: string, mode = 0o600): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-secrets-"));
  temps.push(dir);
  if (contents !== undefined) {
    fs.mkdirSync(path.join(dir, ".conclave"));
    const file = path.join(dir, ".conclave", "secrets.env");
    fs.writeFileSync(file, contents);
    fs.chmodSync(file, mode);
  }
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("parseSecretsFile", () => {
  it("reads KEY=value lines, comments, export, quotes and escapes", () => {
    const text = [
      "# provider settings",
      "",
      "OPENAI_API_KEY=sk-plain-value-0123456789",
      "export GITHUB_TOKEN = ghp_exported_value",
      'DOUBLE="a value with spaces # not a comment"',
      "SINGLE='literal \\n kept'",
      'ESCAPED="line1\\nline2 \\"quoted\\""',
      "INLINE=value # trailing comment",
      "EMPTY=",
      "dotted.name=ok",
    ].join("\n");
    expect(parseSecretsFile(text, "secrets.env")).toEqual({
      OPENAI_API_KEY: "sk-plain-value-0123456789",
      GITHUB_TOKEN: "ghp_exported_value",
      DOUBLE: "a value with spaces # not a comment",
      SINGLE: "literal \\n kept",
      ESCAPED: 'line1\nline2 "quoted"',
      INLINE: "value",
      EMPTY: "",
      "dotted.name": "ok",
    });
  });

  it("names the file and line of a bad line, and the expected form", () => {
    for (const bad of ["JUST_A_WORD", "1BAD=x", 'OPEN="never closed', "X='a' trailing"]) {
      let caught: unknown;
      try {
        parseSecretsFile(`# header\n${bad}\n`, "/w/.conclave/secrets.env");
      } catch (error) {
        caught = error;
      }
      expect(caught, bad).toBeInstanceOf(SecretsError);
      const error = caught as SecretsError;
      expect(error.message).toContain("/w/.conclave/secrets.env:2");
      expect(error.message).toContain("expected KEY=value");
      expect(error.code).toBe("SECRETS_INVALID");
      expect(error.category).toBe("user");
      expect(error.details).toEqual({ file: "/w/.conclave/secrets.env", line: 2 });
    }
  });
});

describe("loadSecrets", () => {
  it("merges the file under the environment and collects secret-looking values from both", () => {
    const cwd = workspace("OPENAI_API_KEY=file-key-0123456789\nDB_PASSWORD=hunter2-but-longer\nSHORT_TOKEN=abc\nMODEL_NAME=gpt-4o-mini-long\n");
    const secrets = loadSecrets({ cwd, env: { OPENAI_API_KEY: "env-key-0123456789", GH_AUTH: "env-auth-value", HOME: "/home/someone-long" } });
    expect(secrets.values.OPENAI_API_KEY).toBe("env-key-0123456789");
    expect(secrets.values.DB_PASSWORD).toBe("hunter2-but-longer");
    expect(secrets.values.HOME).toBe("/home/someone-long");
    expect(secrets.secretValues.sort()).toEqual(["env-auth-value", "env-key-0123456789", "file-key-0123456789", "hunter2-but-longer"]);
    expect(secrets.file).toBe(path.join(cwd, ".conclave", "secrets.env"));
    expect(secrets.warnings).toEqual([]);
  });

  it("works without a secrets file, but requires a file that was named", () => {
    const cwd = workspace();
    const secrets = loadSecrets({ cwd, env: { API_KEY: "only-in-env-123" } });
    expect(secrets).toEqual({ values: { API_KEY: "only-in-env-123" }, secretValues: ["only-in-env-123"], warnings: [] });
    expect(() => loadSecrets({ cwd, env: {}, file: "missing.env" })).toThrow(SecretsError);
    expect(() => loadSecrets({ cwd, env: {}, file: "missing.env" })).toThrow(/missing\.env/);
  });

  it("reads a file named relative to cwd", () => {
    const cwd = workspace();
    fs.writeFileSync(path.join(cwd, "other.env"), "SERVICE_SECRET='quoted secret value'\n", { mode: 0o600 });
    const secrets = loadSecrets({ cwd, env: {}, file: "other.env" });
    expect(secrets.secretValues).toEqual(["quoted secret value"]);
    expect(secrets.file).toBe(path.join(cwd, "other.env"));
  });

  it.skipIf(process.platform === "win32")("warns, without printing, when others can read the file", () => {
    const cwd = workspace("API_KEY=some-long-secret\n", 0o644);
    const secrets = loadSecrets({ cwd, env: {} });
    expect(secrets.warnings).toHaveLength(1);
    expect(secrets.warnings[0]).toContain("chmod 600");
    expect(secrets.warnings[0]).toContain("mode 644");
  });
});
