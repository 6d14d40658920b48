import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, ConfigSchema, RunEvents, run } from "conclave";
import type { ConclaveEvent, GraphBuildContext } from "conclave";
import { scriptedModel } from "conclave/testing";
import { describe, expect, it } from "vitest";
import { createCodeReview, example } from "./code-review.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const context = (cwd = root): GraphBuildContext => ({ config: ConfigSchema.parse({}), cwd });

function recorder() {
  const events = new RunEvents();
  const seen: ConclaveEvent[] = [];
  events.on("event", (event) => seen.push(event));
  return { events, seen };
}

describe("the code review on the sample diff, offline", () => {
  it("runs ESLint and the security rules on added lines only, and blocks", async () => {
    const { events, seen } = recorder();
    const { state } = await run(example.build(context()), example.input(example.sample!), { events });

    const file = state.files[0]!;
    expect(state.files).toHaveLength(1);
    expect(file).toMatchObject({ path: "src/reports/export-report.ts", status: "modified", source: "partial" });
    expect(state.findings.filter((finding) => finding.source !== "model").map((finding) => [finding.source, finding.rule, finding.line, finding.severity]).sort()).toEqual([
      ["eslint", "@typescript-eslint/no-explicit-any", 36, "error"],
      // Partial file: the rest of it could use the variable, so this one only warns.
      ["eslint", "@typescript-eslint/no-unused-vars", 38, "warning"],
      ["security", "security/exec-interpolation", 40, "critical"],
      ["security", "security/insecure-url", 14, "error"],
    ]);
    // `legacyDelimiter` (line 12) is unused too, but that line is not the change's.
    expect(file.added).not.toContain(12);
    for (const finding of state.findings) expect(file.added, `${finding.rule} at ${finding.line}`).toContain(finding.line);

    expect(state.verdict?.verdict).toBe("block");
    expect(state.verdict?.reasons[0]).toBe("2 security finding(s) on added lines: security/insecure-url at src/reports/export-report.ts:14, security/exec-interpolation at src/reports/export-report.ts:40");
    expect(seen).toContainEqual(expect.objectContaining({ type: "decision", by: "decide", reason: expect.stringMatching(/^block: 2 security finding/) }));

    // ESLint and the security scan ran side by side, in one superstep.
    const steps = seen.flatMap((event) => (event.type === "node-start" && (event.node === "lint" || event.node === "security") ? [event.step] : []));
    expect(steps).toHaveLength(2);
    expect(steps[0]).toBe(steps[1]);

    expect(example.output(state).answer).toMatch(/^Verdict: BLOCK\n- 2 security finding/);
  });
});

const BASE = ["export function total(prices: number[]): number {", "  const legacy = eval('0');", "  return prices.reduce((sum, price) => sum + price, 0);", "}", ""].join("\n");
const PLANTED = `diff --git a/src/cart.ts b/src/cart.ts
--- a/src/cart.ts
+++ b/src/cart.ts
@@ -1,4 +1,7 @@
 export function total(prices: number[]): number {
   const legacy = eval('0');
-  return prices.reduce((sum, price) => sum + price, 0);
+  const discount = eval(process.env.DISCOUNT ?? "0");
+  const shipping = 5;
+  const sum = prices.reduce((acc, price) => acc + price, 0);
+  return sum - discount;
 }
`;

function checkout(): string {
  const cwd = mkdtempSync(join(tmpdir(), "conclave-review-"));
  mkdirSync(join(cwd, "src"));
  writeFileSync(join(cwd, "src/cart.ts"), BASE);
  return cwd;
}

describe("the code review with a scripted reviewer", () => {
  it("blocks a planted eval( even when the model approves, and reports nothing on unchanged lines", async () => {
    const reviewer = scriptedModel().answer({
      verdict: "approve",
      summary: "Adds a discount.",
      comments: [
        { file: "src/cart.ts", line: 4, severity: "warning", comment: "shipping is never added to the total." },
        { file: "src/cart.ts", line: 2, severity: "info", comment: "legacy is odd." },
      ],
    });
    const graph = createCodeReview(context(checkout()), { models: { reviewer } });
    const { state } = await run(graph, { source: PLANTED });

    // The old version was in the workspace, so the whole new file was linted.
    expect(state.files[0]).toMatchObject({ source: "patched", added: [3, 4, 5, 6] });
    const statics = state.findings.filter((finding) => finding.source !== "model");
    expect(statics.map((finding) => [finding.rule, finding.line, finding.severity]).sort()).toEqual([
      ["@typescript-eslint/no-unused-vars", 4, "error"],
      ["security/no-eval", 3, "critical"],
    ]);
    // Line 2 has an eval( and an unused variable too, but was not changed.
    expect(state.findings.some((finding) => finding.line === 2)).toBe(false);
    expect(state.notes).toContain("dropped 1 model comment(s) that point at no added line");

    // The reviewer saw the findings and the diff; its comment on an added line became a finding.
    const request = reviewer.requests[0]!.at(-1)!.content;
    expect(request).toContain("security/no-eval (critical) at src/cart.ts:3");
    expect(request).toContain("+  const discount = eval(");
    expect(state.findings).toContainEqual({ source: "model", rule: "model-review", severity: "warning", file: "src/cart.ts", line: 4, message: "shipping is never added to the total." });

    expect(state.verdict).toMatchObject({ verdict: "block", counts: { security: 1, lintErrors: 1, lintWarnings: 0, modelComments: 1 } });
    expect(state.verdict!.reasons).toEqual([
      "1 security finding(s) on added lines: security/no-eval at src/cart.ts:3",
      "1 ESLint error(s) on added lines: @typescript-eslint/no-unused-vars at src/cart.ts:4",
      "the model reviewer says approve: Adds a discount.",
    ]);
  });

  it("approves a clean change the model approves", async () => {
    const clean = PLANTED.replace(`+  const discount = eval(process.env.DISCOUNT ?? "0");\n+  const shipping = 5;\n`, `+  const discount = Number(process.env.DISCOUNT ?? "0");\n+  const shipping = 5 + discount;\n`).replace("+  return sum - discount;", "+  return sum + shipping;");
    const reviewer = scriptedModel().answer({ verdict: "approve", summary: "Adds shipping.", comments: [] });
    const { state } = await run(createCodeReview(context(checkout()), { models: { reviewer } }), { source: clean });
    expect(state.findings).toEqual([]);
    expect(state.verdict).toEqual({ verdict: "approve", reasons: ["no security findings and no ESLint errors on added lines", "the model reviewer says approve: Adds shipping."], counts: { security: 0, lintErrors: 0, lintWarnings: 0, modelComments: 0 } });
  });

  it("refuses input that is not a diff, and options it does not know", async () => {
    await expect(run(createCodeReview(context()), { source: "please review my code" }, { model: scriptedModel() })).rejects.toThrow(/holds no file changes/);
    expect(() => createCodeReview(context(), { lint: false } as never)).toThrow(ConfigError);
  });
});
