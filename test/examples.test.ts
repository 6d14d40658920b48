import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, runCli } from "./helpers/cli.ts";

const registry = JSON.parse(readFileSync(join(ROOT, "langgraph.json"), "utf8")) as { graphs: Record<string, string> };
const names = Object.keys(registry.graphs);

describe("every registered example", () => {
  it("is listed by conclave graphs --json with its name and description", async () => {
    const listed = await runCli(["graphs", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ name: string; description: string; sample?: string }>;
    expect(rows.map((row) => row.name).sort()).toEqual([...names].sort());
    for (const row of rows) {
      expect(row.description, row.name).not.toMatch(/^cannot load/);
      expect(row.description.length, row.name).toBeGreaterThan(10);
      expect(row.sample, `${row.name} bundles no sample input`).toBeTruthy();
    }
  });

  it.each(names)("%s runs offline on its bundled sample and exits 0", async (name) => {
    const result = await runCli(["run", "--graph", name, "--quiet"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
  }, 60_000);
});
