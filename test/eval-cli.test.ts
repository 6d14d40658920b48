import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EvalReportSchema } from "../src/index.ts";
import { startFakeOpenAIServer } from "../src/testing/index.ts";
import type { RecordedRequest, ScriptedReply } from "../src/testing/index.ts";
import { ROOT, runCli } from "./helpers/cli.ts";

const fixtures = { CONCLAVE_CONFIG: join(ROOT, "test/fixtures/eval.config.json") };
const out = () => mkdtempSync(join(tmpdir(), "conclave-eval-out-"));

describe("conclave eval run", () => {
  it("runs arithmetic-tools offline: table on stdout, JSON, JUnit and HTML reports written, gate passed", async () => {
    const dir = out();
    const result = await runCli(["eval", "run", "arithmetic-tools", "--gate", "--out", dir, "--limit", "20"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("arithmetic-tools");
    expect(result.stdout).toMatch(/numeric\s*│\s*1\.000/);
    expect(result.stdout).toContain("PASSED");
    const report = EvalReportSchema.parse(JSON.parse(readFileSync(join(dir, "arithmetic-tools.json"), "utf8")));
    expect(report.samples).toHaveLength(20);
    expect(report.metrics.numeric!.mean).toBe(1);
    expect(readFileSync(join(dir, "arithmetic-tools.xml"), "utf8")).toContain('<testsuites name="arithmetic-tools"');
    expect(readFileSync(join(dir, "arithmetic-tools.html"), "utf8")).toContain("<svg");
    expect(result.stderr).toContain("20/20");
  });

  it("fails the gate with exit 1 and says which threshold was missed", async () => {
    const result = await runCli(["eval", "run", "fixture-failing", "--gate"], { env: fixtures });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("gate failed for fixture-failing: numeric is 0.000, under its threshold 0.9");
    // Without --gate the same run reports and exits 0.
    expect((await runCli(["eval", "run", "fixture-failing"], { env: fixtures })).code).toBe(0);
  });

  it("names an unknown suite and the registered ones", async () => {
    const result = await runCli(["eval", "run", "nope"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No eval suite named "nope"');
    expect(result.stderr).toContain("arithmetic-tools");
  });
});

describe("conclave eval compare", () => {
  it("prints the paired tests, their p-values and the verdict; the gate fails on a regression against a baseline", async () => {
    const dir = out();
    const run = await runCli(["eval", "run", "fixture-compare", "--out", dir], { env: fixtures });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/good\s+1\.000/);
    const good = join(dir, "fixture-compare.good.json");
    const bad = join(dir, "fixture-compare.bad.json");
    const compared = await runCli(["eval", "compare", good, bad]);
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stdout).toContain("80 paired samples");
    expect(compared.stdout).toMatch(/numeric: WORSE/);
    expect(compared.stdout).toMatch(/McNemar p = [0-9.e-]+/);
    expect(compared.stdout).toMatch(/paired bootstrap p = /);
    const same = await runCli(["eval", "compare", good, good]);
    expect(same.stdout).toContain("NO SIGNIFICANT DIFFERENCE");
    // The baseline is an earlier run of the same variant: "bad" as it was when it was still right.
    const earlier = join(dir, "bad-before.json");
    writeFileSync(earlier, JSON.stringify({ ...JSON.parse(readFileSync(good, "utf8")), variant: "bad" }));
    const gated = await runCli(["eval", "run", "fixture-compare", "--variant", "bad", "--baseline", earlier, "--gate"], { env: fixtures });
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain("regression against the baseline");
    // A baseline of another variant is refused, not compared.
    const mismatched = await runCli(["eval", "run", "fixture-compare", "--variant", "bad", "--baseline", good, "--gate"], { env: fixtures });
    expect(mismatched.code).toBe(1);
    expect(mismatched.stderr).toContain("the baseline is a report of fixture-compare:good, not fixture-compare:bad");
    // A folder of reports gives each variant its own baseline: "good" against itself passes.
    expect((await runCli(["eval", "run", "fixture-compare", "--variant", "good", "--baseline", dir, "--gate"], { env: fixtures })).code).toBe(0);
    const json = JSON.parse((await runCli(["eval", "compare", good, bad, "--json"])).stdout) as { scorers: Array<{ verdict: string; mcnemarP: number }> };
    expect(json.scorers[0]).toMatchObject({ verdict: "worse" });
    expect(json.scorers[0]!.mcnemarP).toBeLessThan(0.05);
  });

  it("refuses a file that is not an eval report", async () => {
    const result = await runCli(["eval", "compare", join(ROOT, "package.json"), join(ROOT, "package.json")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not an eval report of version 1");
  });
});

/** A calculator-using model over HTTP: asks the calculator, then states its result. */
function calculatorModel(request: RecordedRequest): ScriptedReply {
  const messages = request.body.messages as Array<{ role: string; content: string | null }>;
  const last = messages.at(-1)!;
  if (last.role === "user") return { kind: "tool-calls", calls: [{ name: "calculator", arguments: { expression: /result of ([0-9+*\-]+)\?/.exec(String(last.content))![1]! } }] };
  return { kind: "text", content: `The answer is ${String(last.content).split("=").at(-1)!.trim()}` };
}

describe("a recorded suite replays with no network", () => {
  it("records arithmetic-tools against a provider, then replays it with the provider gone: identical scores and outputs", async () => {
    const server = await startFakeOpenAIServer();
    server.setFallback({ kind: "respond", handler: calculatorModel });
    const env = { OPENAI_BASE_URL: server.url, OPENAI_API_KEY: "k", CONCLAVE_MODEL: "fake-model", CONCLAVE_MAX_RETRIES: "0" };
    const cassettes = join(out(), "cassettes");
    const recordedDir = out();
    const recorded = await runCli(["eval", "run", "arithmetic-tools", "--limit", "12", "--record", cassettes, "--out", recordedDir], { env });
    expect(recorded.code, recorded.stderr).toBe(0);
    const requests = server.requests.length;
    expect(requests).toBe(24);
    await server.close();
    expect(existsSync(join(cassettes, "arithmetic-tools", "default"))).toBe(true);

    const replayedDir = out();
    const replayed = await runCli(["eval", "run", "arithmetic-tools", "--limit", "12", "--replay", cassettes, "--out", replayedDir, "--gate"], { env });
    expect(replayed.code, replayed.stderr).toBe(0);
    const a = EvalReportSchema.parse(JSON.parse(readFileSync(join(recordedDir, "arithmetic-tools.json"), "utf8")));
    const b = EvalReportSchema.parse(JSON.parse(readFileSync(join(replayedDir, "arithmetic-tools.json"), "utf8")));
    const view = (report: typeof a) => report.samples.map((sample) => [sample.id, sample.scores, sample.epochs.map((epoch) => [epoch.output, epoch.scores, epoch.usage])]);
    expect(view(b)).toEqual(view(a));
    expect(b.metrics).toEqual(a.metrics);
    expect(b.settings.replayed).toBe(true);
  });
});
