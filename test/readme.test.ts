import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");

describe("the README", () => {
  it("shows the two set-up commands", () => {
    expect(readme).toContain('npm install && npm start -- "What is 17 * 23 + 4?"');
    expect(readme).toMatch(/^npm test\b/m);
  });

  it("shows the quickstart exactly as graphs/quickstart.ts, which runs offline", () => {
    const source = readFileSync(`${root}graphs/quickstart.ts`, "utf8");
    expect(readme).toContain(source);
    expect(source.split("\n").filter(Boolean).length).toBeLessThanOrEqual(20);
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("OPENAI_") && !key.startsWith("CONCLAVE_")));
    const result = spawnSync(process.execPath, ["--import", "tsx", "graphs/quickstart.ts"], { cwd: root, env, encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("The capital of Japan is Tokyo. [capitals]");
    expect(result.stdout).toContain("conclave-offline (offline)");
  });
});
