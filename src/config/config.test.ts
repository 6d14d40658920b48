import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { describeConfig } from "../cli/commands/config.ts";
import { ConfigError } from "../errors.ts";
import { configFromEnvironment, loadConfig } from "./load.ts";
import type { LoadedConfig } from "./load.ts";
import { ConfigSchema } from "./schema.ts";

const temps: string[] = [];

/** A fresh temp folder, optionally holding `conclave.config.json` with `contents`. */
function tempDir(contents?: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-config-"));
  temps.push(dir);
  if (contents !== undefined) fs.writeFileSync(path.join(dir, "conclave.config.json"), JSON.stringify(contents));
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `load`, expecting a ConfigError, and returns it. */
async function configError(load: () => unknown): Promise<ConfigError> {
  let caught: unknown;
  try {
    await load();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return caught as ConfigError;
}

/** The line of a ConfigError message about `field`. */
/** The per-setting parts of the one-line error message. */
function settingLines(message: string): string[] {
  return message.replace(/^Invalid configuration: /, "").split(/; |\n/).map((part) => part.trim());
}

function lineFor(message: string, field: string): string {
  const line = settingLines(message).find((candidate) => candidate.startsWith(`${field}:`));
  expect(line, `no line for ${field} in:\n${message}`).toBeDefined();
  return line!;
}

describe("loadConfig", () => {
  it("uses the schema defaults with an empty env and no file", async () => {
    const cwd = tempDir();
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.config).toEqual(ConfigSchema.parse({}));
    expect(loaded.config.model.provider).toBe("auto");
    expect(loaded.config.defaultGraph).toBeUndefined();
    expect(loaded.config.model.timeoutMs).toBeGreaterThan(0);
    expect(loaded.config.corpus).toBeUndefined();
    expect(loaded.sources).toEqual({});
    expect(loaded.file).toBeUndefined();
    expect(loaded.cwd).toBe(cwd);
  });

  it("reads conclave.config.json from the cwd and records the file as the source", async () => {
    const cwd = tempDir({ model: { name: "file-model", temperature: 0.5 }, corpus: "./docs", graphs: { mine: "./g.ts:graph" } });
    const loaded = await loadConfig({ cwd, env: {} });
    const file = path.join(cwd, "conclave.config.json");
    expect(loaded.file).toBe(file);
    expect(loaded.config.model).toMatchObject({ name: "file-model", temperature: 0.5, provider: "auto" });
    expect(loaded.config.corpus).toBe("./docs");
    expect(loaded.config.graphs).toEqual({ mine: "./g.ts:graph" });
    expect(loaded.sources).toEqual({ "model.name": `file:${file}`, "model.temperature": `file:${file}`, corpus: `file:${file}`, "graphs.mine": `file:${file}` });
  });

  it("lets env override the file and flags override env, recording each source", async () => {
    const cwd = tempDir({ model: { name: "file-model", maxRetries: 5 }, workspace: "./from-file" });
    const file = path.join(cwd, "conclave.config.json");
    const env = { CONCLAVE_MODEL: "env-model", CONCLAVE_TIMEOUT_MS: "1500", CONCLAVE_WORKSPACE: "./from-env" };

    const envOnly = await loadConfig({ cwd, env });
    expect(envOnly.config.model.name).toBe("env-model");
    expect(envOnly.config.model.timeoutMs).toBe(1500);
    expect(envOnly.sources["model.name"]).toBe("env:CONCLAVE_MODEL");

    const flagged = await loadConfig({ cwd, env, flags: { "model.name": { value: "flag-model", flag: "--model" }, corpus: { value: undefined, flag: "--corpus" } } });
    expect(flagged.config.model.name).toBe("flag-model");
    expect(flagged.config.model.maxRetries).toBe(5);
    expect(flagged.config.workspace).toBe("./from-env");
    expect(flagged.config.corpus).toBeUndefined();
    expect(flagged.sources).toEqual({
      "model.name": "flag:--model",
      "model.maxRetries": `file:${file}`,
      "model.timeoutMs": "env:CONCLAVE_TIMEOUT_MS",
      workspace: "env:CONCLAVE_WORKSPACE",
    });
  });

  it("ignores blank environment variables", async () => {
    const loaded = await loadConfig({ cwd: tempDir(), env: { CONCLAVE_MODEL: "   ", OPENAI_API_KEY: "" } });
    expect(loaded.config.model.name).toBeUndefined();
    expect(loaded.config.model.apiKey).toBeUndefined();
    expect(loaded.sources).toEqual({});
  });

  it("names each bad field, what was expected and where it came from", async () => {
    const cwd = tempDir({ model: { baseUrl: "not a url", maxRetries: 11 } });
    const file = path.join(cwd, "conclave.config.json");
    const error = await configError(() => loadConfig({ cwd, env: { CONCLAVE_TIMEOUT_MS: "-5", CONCLAVE_TEMPERATURE: "warm" } }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.category).toBe("user");
    expect(lineFor(error.message, "model.timeoutMs")).toMatch(/>0.*\[from env:CONCLAVE_TIMEOUT_MS\]/);
    expect(lineFor(error.message, "model.temperature")).toMatch(/expected number.*\[from env:CONCLAVE_TEMPERATURE\]/);
    expect(lineFor(error.message, "model.baseUrl")).toMatch(/expected a URL.*\[from file:/);
    expect(lineFor(error.message, "model.baseUrl")).toContain(file);
    expect(lineFor(error.message, "model.maxRetries")).toMatch(/<=10.*\[from file:/);
    expect(error.message).toMatch(/conclave config/);
  });

  it("reports an unknown key in the file by name", async () => {
    const cwd = tempDir({ model: { name: "m", colour: "red" }, bogus: 1 });
    const error = await configError(() => loadConfig({ cwd, env: {} }));
    expect(error.message).toMatch(/Unrecognized key: "colour"/);
    expect(error.message).toMatch(/Unrecognized key: "bogus"/);
  });

  // Regression: zod reports unknown keys on the parent object, which once hid their source.
  it("says an unknown key came from the config file", async () => {
    const cwd = tempDir({ model: { colour: "red" } });
    const error = await configError(() => loadConfig({ cwd, env: {} }));
    const line = settingLines(error.message).find((candidate) => candidate.includes('"colour"'));
    expect(line).toContain(`[from file:${path.join(cwd, "conclave.config.json")}]`);
  });

  it("names a bad flag value as coming from the flag", async () => {
    const error = await configError(() => loadConfig({ cwd: tempDir(), env: {}, flags: { "model.provider": { value: "anthropic", flag: "--provider" } } }));
    expect(lineFor(error.message, "model.provider")).toMatch(/"auto"\|"offline"\|"openai".*\[from flag:--provider\]/);
  });

  it("errors on an explicit config file that does not exist", async () => {
    const cwd = tempDir();
    const error = await configError(() => loadConfig({ cwd, env: {}, file: "missing.json" }));
    expect(error.message).toContain(`Config file ${path.join(cwd, "missing.json")} does not exist`);
    const viaEnv = await configError(() => loadConfig({ cwd, env: { CONCLAVE_CONFIG: "nope.json" } }));
    expect(viaEnv.message).toContain(path.join(cwd, "nope.json"));
  });

  it("reads an explicit config file by relative path, instead of the default one", async () => {
    const cwd = tempDir({ model: { name: "default-file" } });
    fs.mkdirSync(path.join(cwd, "conf"));
    fs.writeFileSync(path.join(cwd, "conf", "other.json"), JSON.stringify({ model: { name: "other-file" } }));
    const loaded = await loadConfig({ cwd, env: {}, file: "conf/other.json" });
    expect(loaded.config.model.name).toBe("other-file");
    expect(loaded.sources["model.name"]).toBe(`file:${path.join(cwd, "conf", "other.json")}`);
  });

  it("reports a config file with broken JSON or a non-object", async () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, "conclave.config.json"), "{ model: ");
    expect((await configError(() => loadConfig({ cwd, env: {} }))).message).toMatch(/Cannot read config file .*conclave\.config\.json/);
    fs.writeFileSync(path.join(cwd, "conclave.config.json"), "[1, 2]");
    expect((await configError(() => loadConfig({ cwd, env: {} }))).message).toMatch(/must hold an object/);
  });

  it("loads conclave.config.ts with export default defineConfig({...})", async () => {
    const cwd = tempDir();
    const index = fileURLToPath(new URL("../index.ts", import.meta.url));
    let specifier = path.relative(cwd, index).split(path.sep).join("/");
    if (!specifier.startsWith(".")) specifier = `./${specifier}`;
    fs.writeFileSync(
      path.join(cwd, "conclave.config.ts"),
      `import { defineConfig } from ${JSON.stringify(specifier)};\nconst name: string = "ts-model";\nexport default defineConfig({ model: { provider: "offline", name }, defaultGraph: "custom" });\n`,
    );
    // The .ts file wins over a .json file next to it.
    fs.writeFileSync(path.join(cwd, "conclave.config.json"), JSON.stringify({ model: { name: "json-model" } }));
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.file).toBe(path.join(cwd, "conclave.config.ts"));
    expect(loaded.config.model).toMatchObject({ provider: "offline", name: "ts-model" });
    expect(loaded.config.defaultGraph).toBe("custom");
    expect(loaded.sources.defaultGraph).toBe(`file:${path.join(cwd, "conclave.config.ts")}`);
  });

  it("rejects a conclave.config.ts without a default export", async () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, "conclave.config.ts"), "export const config = { model: { name: 'x' } };\n");
    expect((await configError(() => loadConfig({ cwd, env: {} }))).message).toMatch(/must hold an object.*export default defineConfig/);
  });
});

describe("configFromEnvironment", () => {
  it("gives the defaults for an empty env", () => {
    expect(configFromEnvironment({})).toEqual(ConfigSchema.parse({}));
  });

  it("maps the variables to settings, parsing numbers", () => {
    const config = configFromEnvironment({ OPENAI_BASE_URL: "http://127.0.0.1:8000/v1", CONCLAVE_MODEL: "qwen", CONCLAVE_MAX_RETRIES: "0", CONCLAVE_CORPUS: "./docs", CONCLAVE_EMBEDDINGS_PROVIDER: "offline" });
    expect(config.model).toMatchObject({ baseUrl: "http://127.0.0.1:8000/v1", name: "qwen", maxRetries: 0 });
    expect(config.corpus).toBe("./docs");
    expect(config.embeddings.provider).toBe("offline");
  });

  it("does not read a config file", () => {
    const cwd = tempDir({ model: { name: "from-file" } });
    const before = process.cwd();
    process.chdir(cwd);
    try {
      expect(configFromEnvironment({}).model.name).toBeUndefined();
    } finally {
      process.chdir(before);
    }
  });

  it("throws a ConfigError naming the variable for a bad value", async () => {
    const error = await configError(() => configFromEnvironment({ CONCLAVE_TIMEOUT_MS: "abc", OPENAI_BASE_URL: "nope" }));
    expect(lineFor(error.message, "model.timeoutMs")).toMatch(/expected number.*\[from env:CONCLAVE_TIMEOUT_MS\]/);
    expect(lineFor(error.message, "model.baseUrl")).toMatch(/expected a URL.*\[from env:OPENAI_BASE_URL\]/);
  });
});

describe("describeConfig", () => {
  const row = (loaded: LoadedConfig, key: string) => describeConfig(loaded).find((candidate) => candidate.path === key);

  it("redacts model.apiKey, never showing the whole key", async () => {
    const key = "sk-test-0123456789abcdefWXYZ";
    const loaded = await loadConfig({ cwd: tempDir(), env: { OPENAI_API_KEY: key } });
    const apiKey = row(loaded, "model.apiKey");
    expect(apiKey).toMatchObject({ source: "env:OPENAI_API_KEY" });
    expect(String(apiKey!.value)).toMatch(/^\*\*\*/);
    expect(JSON.stringify(describeConfig(loaded))).not.toContain(key);
    expect(JSON.stringify(describeConfig(loaded))).not.toContain("0123456789");
  });

  it("hides a short key completely", async () => {
    const loaded = await loadConfig({ cwd: tempDir(), env: { OPENAI_API_KEY: "abc123" } });
    expect(row(loaded, "model.apiKey")!.value).toBe("***");
  });

  it("refuses an API key in the config file, naming the setting and where keys go instead", async () => {
    const error = (await loadConfig({ cwd: tempDir({ embeddings: { apiKey: "emb-secret-key-value" } }), env: {} }).catch((caught: unknown) => caught)) as Error;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("sets embeddings.apiKey");
    expect(error.message).toContain(".conclave/secrets.env");
    expect(error.message).not.toContain("emb-secret-key-value");
    await expect(loadConfig({ cwd: tempDir({ model: { apiKey: "sk-in-file" } }), env: {} })).rejects.toThrow(/set OPENAI_API_KEY in the environment/);
  });

  it("reads the embeddings key from the environment and redacts it", async () => {
    const loaded = await loadConfig({ cwd: tempDir(), env: { CONCLAVE_EMBEDDINGS_API_KEY: "emb-secret-key-value" } });
    expect(loaded.config.embeddings.apiKey).toBe("emb-secret-key-value");
    expect(JSON.stringify(describeConfig(loaded))).not.toContain("emb-secret-key-value");
  });

  it("reports what auto resolves to", async () => {
    const offline = await loadConfig({ cwd: tempDir(), env: {} });
    expect(row(offline, "model.provider")).toEqual({ path: "model.provider", value: "auto (→ offline)", source: "default" });
    const openai = await loadConfig({ cwd: tempDir(), env: { OPENAI_BASE_URL: "http://127.0.0.1:8000/v1" } });
    expect(row(openai, "model.provider")!.value).toBe("auto (→ openai)");
    const explicit = await loadConfig({ cwd: tempDir(), env: { CONCLAVE_PROVIDER: "offline", OPENAI_API_KEY: "sk-0123456789" } });
    expect(row(explicit, "model.provider")).toEqual({ path: "model.provider", value: "offline", source: "env:CONCLAVE_PROVIDER" });
  });

  it("lists unset settings and every value with its source, sorted by path", async () => {
    const cwd = tempDir({ model: { name: "file-model" } });
    const rows = describeConfig(await loadConfig({ cwd, env: { CONCLAVE_TIMEOUT_MS: "1234" } }));
    expect(rows.map((candidate) => candidate.path)).toEqual([...rows.map((candidate) => candidate.path)].sort((a, b) => a.localeCompare(b)));
    expect(rows.find((candidate) => candidate.path === "model.name")).toEqual({ path: "model.name", value: "file-model", source: `file:${path.join(cwd, "conclave.config.json")}` });
    expect(rows.find((candidate) => candidate.path === "model.timeoutMs")).toEqual({ path: "model.timeoutMs", value: 1234, source: "env:CONCLAVE_TIMEOUT_MS" });
    expect(rows.find((candidate) => candidate.path === "corpus")).toEqual({ path: "corpus", value: "(unset)", source: "default" });
  });
});

describe("config files that try to reach Object.prototype", () => {
  it("ignores __proto__ keys instead of polluting every object", async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-proto-"));
    fs.writeFileSync(path.join(cwd, "conclave.config.json"), '{"__proto__": {"polluted": "yes"}, "model": {"name": "m"}}');
    const loaded = await loadConfig({ cwd, env: {} });
    expect(loaded.config.model.name).toBe("m");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
