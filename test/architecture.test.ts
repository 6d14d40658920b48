import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sourceFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string, { runtimeOnly = false } = {}): string[] {
  return [...readFileSync(file, "utf8").matchAll(IMPORT)]
    // `import type` is erased at run time, so it cannot form a cycle that breaks module loading.
    .filter((match) => !runtimeOnly || !/^\s*(?:import|export)\s+type\b/.test(match[0]))
    .map((match) => match[1] ?? match[2]!)
    .filter(Boolean);
}

describe("layering", () => {
  const runtime = sourceFiles(join(root, "src"));

  it("the top level has the folders the architecture names", () => {
    for (const folder of ["src", "agents", "tools", "graphs", "evals", "docs", "test"]) expect(existsSync(join(root, folder)), folder).toBe(true);
  });

  it("src/ never imports what is built on it (agents/, tools/, graphs/, evals/)", () => {
    const offenders = runtime.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => relative(root, resolve(dirname(file), specifier)))
        .filter((target) => /^(agents|tools|graphs|evals)\//.test(target))
        .map((target) => `${relative(root, file)} → ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it("agents/, tools/ and graphs/ use only the public API, never src/ internals", () => {
    const userland = ["agents", "tools", "graphs", "evals"].flatMap((folder) => sourceFiles(join(root, folder)));
    const offenders = userland.flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith(".") && relative(root, resolve(dirname(file), specifier)).startsWith("src/"))
        .map((specifier) => `${relative(root, file)} → ${specifier}`),
    );
    expect(userland.length).toBeGreaterThan(3);
    expect(offenders).toEqual([]);
  });

  it("src/ has no runtime import cycles", () => {
    const graph = new Map<string, string[]>();
    for (const file of runtime.filter((path) => !path.endsWith(".test.ts"))) {
      graph.set(file, importsOf(file, { runtimeOnly: true }).filter((specifier) => specifier.startsWith(".")).map((specifier) => resolve(dirname(file), specifier)));
    }
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map((item) => relative(root, item)).join(" → "));
        return;
      }
      state.set(file, "visiting");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
