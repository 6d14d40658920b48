import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // agents/, tools/ and graphs/ import the runtime by its package name, as a user would.
    alias: [
      { find: /^conclave\/testing$/, replacement: here("./src/testing/index.ts") },
      { find: /^conclave$/, replacement: here("./src/index.ts") },
    ],
  },
  test: {
    include: ["src/**/*.test.ts", "agents/**/*.test.ts", "tools/**/*.test.ts", "graphs/**/*.test.ts", "evals/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
