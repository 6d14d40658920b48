import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { UsageError } from "../../errors.ts";
import { RunEvents } from "../../events/emitter.ts";
import { variantsOf } from "../../eval/define-suite.ts";
import { asComparable } from "../../eval/gate.ts";
import { loadSuite, readSuites } from "../../eval/registry.ts";
import { EvalReportSchema } from "../../eval/report.ts";
import type { EvalReport } from "../../eval/report.ts";
import { formatTable, toHtml, toJUnitXml } from "../../eval/reports/index.ts";
import { runSuite } from "../../eval/runner.ts";
import { compareRuns } from "../../eval/stats/index.ts";
import { closeEmbeddingCaches, createChatModel } from "../../models/resolve.ts";
import { parseCommandArgs, positiveInteger, positiveNumber } from "../args.ts";
import { evalProgressPrinter } from "../eval-progress.ts";
import { processIO } from "../output.ts";
import type { CliIO } from "../output.ts";
import { modelBanner } from "../progress.ts";
import { reliabilityOptions } from "../run-options.ts";
import { observeRun, openWorkspace } from "../workspace.ts";
import type { Workspace } from "../workspace.ts";
import { withWorkspace } from "./threads.ts";

const RUN_OPTIONS = {
  all: { type: "boolean" },
  judge: { type: "string", multiple: true },
  variant: { type: "string" },
  gate: { type: "boolean" },
  out: { type: "string" },
  epochs: { type: "string" },
  limit: { type: "string" },
  concurrency: { type: "string" },
  seed: { type: "string" },
  record: { type: "string" },
  replay: { type: "string" },
  baseline: { type: "string" },
  "max-cost": { type: "string" },
  model: { type: "string" },
  "base-url": { type: "string" },
  provider: { type: "string" },
  cache: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean" },
} as const;

/** `conclave eval list | run SUITE | compare A.json B.json`. */
export async function evalCommand(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const [action, ...rest] = argv;
  if (action === "run") return evalRun(rest, io, signal);
  if (action === "compare") return evalCompare(rest, io);
  if (action === "list") return evalList(rest, io);
  throw new UsageError(`conclave eval: unknown action ${action ? `"${action}"` : "(none)"}. Use: conclave eval list | run SUITE [--gate] [--out DIR] | compare A.json B.json — see "conclave eval --help".`);
}

async function evalList(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("eval list", argv, { json: { type: "boolean" } });
  return withWorkspace(io, values.config, async (workspace) => {
    const rows = await Promise.all(readSuites(workspace.config).map(async ({ name }) => {
      const suite = await loadSuite(name, workspace.config, workspace.cwd);
      return { name, description: suite.description ?? "", requires: suite.requires ?? "offline", variants: variantsOf(suite).map(([variant]) => variant) };
    }));
    if (values.json) io.stdout(`${JSON.stringify(rows)}\n`);
    else for (const row of rows) io.stdout(`${row.name.padEnd(18)} ${row.requires === "model" ? "(needs a model) " : "(offline)       "} ${row.description}${row.variants.length > 1 ? ` [variants: ${row.variants.join(", ")}]` : ""}\n`);
    return 0;
  });
}

async function evalRun(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs("eval run", argv, RUN_OPTIONS);
  if (!positionals.length && !values.all) throw new UsageError('conclave eval run: missing the suite. Usage: conclave eval run SUITE... [--gate] [--out DIR], or --all ("conclave eval list" shows the suites).');
  if (values.record && values.replay) throw new UsageError("conclave eval run: --record and --replay cannot be used together.");
  const settings = {
    epochs: positiveInteger("eval run", "epochs", values.epochs),
    limit: positiveInteger("eval run", "limit", values.limit),
    concurrency: positiveInteger("eval run", "concurrency", values.concurrency),
    maxCost: positiveNumber("eval run", "max-cost", values["max-cost"]),
    seed: values.seed === undefined ? undefined : Number(values.seed),
  };
  if (settings.seed !== undefined && !Number.isInteger(settings.seed)) throw new UsageError(`conclave eval run: --seed needs a whole number, got "${values.seed}".`);
  const flag = (value: unknown, flagName: string) => ({ value, flag: `--${flagName}` });
  const workspace = await openWorkspace(io, { ...(values.config ? { configFile: values.config } : {}), flags: { "model.name": flag(values.model, "model"), "model.baseUrl": flag(values["base-url"], "base-url"), "model.provider": flag(values.provider, "provider"), "cache.backend": flag(values.cache, "cache") } });
  try {
    const names = values.all ? readSuites(workspace.config).map((suite) => suite.name) : positionals;
    const { info } = createChatModel(workspace.config.model);
    if (!values.quiet) io.stderr(`${modelBanner(info, info.offline ? undefined : workspace.config.model.baseUrl)}\n`);
    const reports: EvalReport[] = [];
    for (const name of names) reports.push(...(await runOneSuite(name, values, settings, workspace, io, signal)));
    if (signal.aborted) {
      io.stderr("conclave eval: cancelled; the reports above cover the samples that ran.\n");
      return 130;
    }
    const failed = reports.filter((report) => !report.gate?.passed);
    if (values.gate && failed.length) {
      for (const report of failed) for (const failure of report.gate!.failures) io.stderr(`conclave eval: gate failed for ${report.suite}${report.variant ? `:${report.variant}` : ""}: ${failure.message}\n`);
      return 1;
    }
    return 0;
  } finally {
    await closeEmbeddingCaches();
    await workspace.close();
  }
}

type RunValues = ReturnType<typeof parseCommandArgs<typeof RUN_OPTIONS>>["values"];
interface RunSettings { epochs: number | undefined; limit: number | undefined; concurrency: number | undefined; maxCost: number | undefined; seed: number | undefined }

/** Runs every variant of one suite (or the one asked for), prints and writes its reports; a suite that needs a model is skipped offline. */
async function runOneSuite(name: string, values: RunValues, settings: RunSettings, workspace: Workspace, io: CliIO, signal: AbortSignal): Promise<EvalReport[]> {
  const { config, cwd } = workspace;
  const suite = await loadSuite(name, config, cwd);
  const { model, info } = createChatModel(config.model);
  if (suite.requires === "model" && info.offline && !values.replay) {
    io.stderr(`suite ${suite.name} needs a real model and only the offline model is configured; skipped. Set OPENAI_BASE_URL (and CONCLAVE_MODEL) or OPENAI_API_KEY to run it.\n`);
    return [];
  }
  // Judges are models of the configured provider, by name (--judge, or evals.judges).
  const judges = (values.judge ?? config.evals.judges).map((judge) => createChatModel({ ...config.model, name: judge }).model);
  const variants = values.variant ? [values.variant] : variantsOf(suite).map(([variant]) => variant);
  const out = values.out ? resolve(cwd, values.out) : undefined;
  const cassetteDir = values.record ?? values.replay;
  const reports: EvalReport[] = [];
  for (const variant of variants) {
    if (signal.aborted) break;
    const baseline = loadBaseline(values.baseline, cwd, suite.name, variant);
    const events = new RunEvents();
    const stopObserving = values.replay ? undefined : observeRun(workspace, events);
    const reliability = reliabilityOptions(config, cwd);
    const printer = values.quiet ? undefined : evalProgressPrinter(io.stderr, { tty: Boolean(process.stderr.isTTY) && io.stderr === processIO.stderr, label: `${suite.name}${variant === "default" ? "" : `:${variant}`}` });
    try {
      reports.push(await runSuite(suite, {
        config,
        cwd,
        model: model as never,
        modelInfo: info,
        variant,
        seed: settings.seed ?? 0,
        concurrency: settings.concurrency ?? config.evals.concurrency,
        ...(settings.epochs ? { epochs: settings.epochs } : {}),
        ...(settings.limit ? { limit: settings.limit } : {}),
        ...(judges.length ? { judges: judges as never } : {}),
        // A recording holds real answers: a cached one would replay as a paid call.
        runOptions: { ...(values.record ? { ...reliability, cache: undefined } : reliability), events, redact: (value) => workspace.redactor.redactValue(value) },
        ...(cassetteDir ? { cassettes: { mode: values.record ? ("record" as const) : ("replay" as const), dir: resolve(cwd, cassetteDir, suite.name) } } : {}),
        ...(settings.maxCost ? { maxCostUsd: settings.maxCost } : {}),
        ...(baseline ? { baseline } : {}),
        signal,
        ...(printer ? { onProgress: (progress) => printer.update(progress) } : {}),
      }));
    } finally {
      printer?.end();
      await stopObserving?.();
      await reliability.cache?.store.close();
    }
  }
  for (const report of reports) {
    if (values.json) io.stdout(`${JSON.stringify(report)}\n`);
    else io.stdout(`${formatTable(report)}\n`);
    if (out) io.stderr(`reports: ${writeReports(report, out).join(", ")}\n`);
  }
  if (reports.length > 1 && !values.json) io.stdout(equalComputeTable(reports));
  return reports;
}

async function evalCompare(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs("eval compare", argv, { level: { type: "string" }, metric: { type: "string" }, json: { type: "boolean" } });
  const [first, second] = positionals;
  if (!first || !second) throw new UsageError("conclave eval compare: usage: conclave eval compare A.json B.json [--level 0.05] [--metric SCORER]");
  const level = values.level === undefined ? 0.05 : Number(values.level);
  if (!(level > 0 && level <= 0.5)) throw new UsageError(`conclave eval compare: --level is a significance level above 0 and at most 0.5 (e.g. 0.05 for 95% confidence), got "${values.level}".`);
  const a = readReport(resolve(io.cwd, first));
  const b = readReport(resolve(io.cwd, second));
  const comparison = compareRuns(asComparable(a), asComparable(b), { level, ...(values.metric ? { metric: values.metric } : {}) });
  if (values.json) {
    io.stdout(`${JSON.stringify(comparison)}\n`);
    return 0;
  }
  io.stdout(`A = ${first} (${a.model.name}${a.variant ? `, ${a.variant}` : ""}), B = ${second} (${b.model.name}${b.variant ? `, ${b.variant}` : ""}); ${comparison.paired} paired samples${comparison.onlyInA.length || comparison.onlyInB.length ? ` (${comparison.onlyInA.length} only in A, ${comparison.onlyInB.length} only in B)` : ""}; significance level ${level}\n`);
  for (const result of comparison.scorers) {
    io.stdout(`\n${result.scorer}: ${result.verdict.toUpperCase()} — ${result.summary}\n`);
    io.stdout(`  paired bootstrap p = ${fmt(result.pairedBootstrapP)} · sign test p = ${fmt(result.signTestP)}${result.mcnemarP !== undefined ? ` · McNemar p = ${fmt(result.mcnemarP)}` : ""}\n`);
    for (const change of result.regressions.slice(0, 10)) io.stdout(`  ▼ ${change.id}: ${change.a.toFixed(3)} → ${change.b.toFixed(3)}\n`);
    for (const change of result.improvements.slice(0, 5)) io.stdout(`  ▲ ${change.id}: ${change.a.toFixed(3)} → ${change.b.toFixed(3)}\n`);
  }
  return 0;
}

/** Accuracy next to what it cost, per variant: the equal-compute view of multi-agent patterns. */
function equalComputeTable(reports: EvalReport[]): string {
  const scorer = reports[0]!.scorers[0]!.name;
  const lines = [`\n${"variant".padEnd(22)} ${scorer.padEnd(16)} ${"model calls".padStart(12)} ${"tokens".padStart(10)} ${"cost USD".padStart(10)}`];
  for (const report of reports) {
    const metric = report.metrics[scorer]!;
    lines.push(`${(report.variant ?? "default").padEnd(22)} ${`${metric.mean.toFixed(3)} ± ${metric.stderr.toFixed(3)}`.padEnd(16)} ${String(report.usage.modelCalls).padStart(12)} ${String(report.usage.totalTokens).padStart(10)} ${report.usage.costUsd.toFixed(4).padStart(10)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Writes report.json (versioned), .xml (JUnit) and .html next to each other; returns their paths. */
function writeReports(report: EvalReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.suite}${report.variant ? `.${report.variant}` : ""}`);
  const files: Array<[string, string]> = [[`${base}.json`, `${JSON.stringify(report, null, 2)}\n`], [`${base}.xml`, toJUnitXml(report)], [`${base}.html`, toHtml(report)]];
  for (const [file, text] of files) writeFileSync(file, text);
  return files.map(([file]) => file);
}

/** A baseline report: the file given, or from a folder of reports, SUITE[.VARIANT].json (absent: no baseline for that one). */
function loadBaseline(path: string | undefined, cwd: string, suite: string, variant: string): EvalReport | undefined {
  if (!path) return undefined;
  const full = resolve(cwd, path);
  if (existsSync(full) && statSync(full).isDirectory()) {
    const file = join(full, `${suite}${variant === "default" ? "" : `.${variant}`}.json`);
    return existsSync(file) ? readReport(file) : undefined;
  }
  return readReport(full);
}

function readReport(path: string): EvalReport {
  if (!existsSync(path)) throw new UsageError(`conclave eval: no report at ${path}. Write one with conclave eval run SUITE --out DIR.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`conclave eval: ${path} is not valid JSON (${(error as Error).message}); pass a report written by conclave eval run --out.`);
  }
  const checked = EvalReportSchema.safeParse(parsed);
  if (!checked.success) throw new UsageError(`conclave eval: ${path} is not an eval report of version 1: ${z.prettifyError(checked.error).split("\n").slice(0, 3).join("; ")}.`);
  return checked.data;
}

function fmt(p: number): string {
  return p < 0.001 ? p.toExponential(2) : p.toFixed(4);
}

