import type { EvalReport, SampleResult } from "../report.ts";
import {
  clip,
  formatCi,
  formatScore,
  formatSeconds,
  formatStderr,
  gateLabel,
  modelLabel,
  passMark,
  sampleErrors,
  sampleLatencyMs,
  sampleScore,
  scorerNames,
} from "./format.ts";

/*
 * Layout (valid against the Jenkins xunit-plugin JUnit schema, test/fixtures/junit/jenkins-junit.xsd):
 *
 *   <testsuites name=suite tests failures errors time>        (that schema has no `skipped` on the root)
 *     <testsuite name="suite.scorer" tests failures errors skipped time timestamp>   one per scorer
 *       <properties> model, variant, settings, the scorer's threshold and metric, the gate </properties>
 *       <testcase name=sampleId classname="suite.scorer" time>                       one per sample
 *         <error> when any epoch of the task failed (an errored case is not also counted as a failure)
 *         <failure> when the sample's score is below the scorer's threshold (below 1 when none is set)
 *         <system-out> the input and each epoch's output, clipped
 *       <system-out> the scorer's summary line
 *
 * One suite per scorer because CI UIs (Jenkins, GitLab, GitHub test reporters) group by suite and by
 * classname: `suite.scorer` puts the scorer as the "class" and the sample id as the test, so a failing
 * sample shows as e.g. `gsm8k.exact › sample-17`, and each scorer's pass count is visible at a glance.
 * tests = samples × scorers. The gate verdict is in every suite's properties; the process exit code gates CI.
 */

const OUTPUT_CLIP = 1_000;
const MESSAGE_CLIP = 300;

/**
 * Replaces what XML 1.0 cannot carry at all, even as a character reference: C0 controls other than
 * tab/newline/return, U+FFFE/U+FFFF and unpaired surrogates. Controls become a visible `\u0007`-style
 * marker so the text still says something was there.
 */
function xmlSafe(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g, "\ufffd");
}

export function escapeXmlText(text: string): string {
  return xmlSafe(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Attribute values also escape quotes, and whitespace that attribute-value normalisation would fold to spaces. */
export function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text).replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/\t/g, "&#9;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;");
}

const attributes = (values: Record<string, string | number | undefined>): string =>
  Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`)
    .join("");

const element = (name: string, attrs: Record<string, string | number | undefined>, body?: string): string =>
  body === undefined ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${escapeXmlText(body)}</${name}>`;

interface Case {
  xml: string;
  failed: boolean;
  errored: boolean;
  seconds: number;
}

function sampleOutput(sample: SampleResult, scorer: string): string {
  const epochs = sample.epochs.map((epoch) => {
    const score = epoch.scores[scorer];
    const verdict = score ? `score ${formatScore(score.score)}: ${clip(score.reason, MESSAGE_CLIP)}` : "not scored";
    return `--- epoch ${epoch.epoch} (${verdict})${epoch.error === undefined ? "" : ` error: ${epoch.error}`}\n${clip(epoch.output, OUTPUT_CLIP)}`;
  });
  return [`input: ${clip(sample.input, OUTPUT_CLIP)}`, ...epochs].join("\n");
}

function testCase(report: EvalReport, scorer: string, sample: SampleResult): Case {
  const classname = `${report.suite}${report.variant ? `.${report.variant}` : ""}.${scorer}`;
  const milliseconds = sampleLatencyMs(sample);
  const errors = sampleErrors(sample);
  const score = sampleScore(sample, scorer);
  const mark = passMark(report, scorer);
  const errored = errors.length > 0;
  const failed = !errored && score < mark;
  const body: string[] = [];
  if (errored) {
    body.push(element("error", { type: "TaskError", message: clip(errors[0] ?? "", MESSAGE_CLIP, { oneLine: true }) }, errors.join("\n")));
  } else if (failed) {
    const reasons = sample.epochs.map((epoch) => `epoch ${epoch.epoch}: ${formatScore(epoch.scores[scorer]?.score ?? 0)} ${epoch.scores[scorer]?.reason ?? "not scored"}`);
    const label = report.thresholds[scorer] === undefined ? "1 (no threshold set)" : `threshold ${formatScore(mark)}`;
    const message = `${scorer} ${formatScore(score)} < ${label}${reasons.length === 1 ? `: ${sample.epochs[0]?.scores[scorer]?.reason ?? ""}` : ""}`;
    body.push(element("failure", { type: "BelowThreshold", message: clip(message, MESSAGE_CLIP, { oneLine: true }) }, reasons.join("\n")));
  }
  body.push(element("system-out", {}, sampleOutput(sample, scorer)));
  const open = `<testcase${attributes({ name: sample.id, classname, time: formatSeconds(milliseconds) })}>`;
  return { xml: `    ${open}\n      ${body.join("\n      ")}\n    </testcase>`, failed, errored, seconds: milliseconds };
}

function properties(report: EvalReport, scorer: string): string {
  const metric = report.metrics[scorer];
  const values: Array<[string, string | number | boolean | undefined]> = [
    ["model", modelLabel(report)],
    ["model.provider", report.model.provider],
    ["model.name", report.model.name],
    ["model.offline", report.model.offline],
    ["variant", report.variant],
    ["createdAt", report.createdAt],
    ...Object.entries(report.settings).map(([key, value]): [string, string | number | boolean] => [`settings.${key}`, value]),
    ["scorer", scorer],
    ["scorer.description", report.scorers.find((entry) => entry.name === scorer)?.description],
    ["threshold", report.thresholds[scorer]],
    ["metric.mean", metric?.mean],
    ["metric.stderr", metric?.stderr],
    ["metric.ci95", metric ? `${metric.ci[0]},${metric.ci[1]}` : undefined],
    ["metric.n", metric?.n],
    ["gate", gateLabel(report)],
    ...(report.gate?.failures ?? []).map((failure, index): [string, string] => [`gate.failure.${index + 1}`, `[${failure.kind}] ${failure.message}`]),
  ];
  const rows = values.flatMap(([name, value]) => (value === undefined ? [] : [`      ${element("property", { name, value: String(value) })}`]));
  return `    <properties>\n${rows.join("\n")}\n    </properties>`;
}

function summary(report: EvalReport, scorer: string): string {
  const metric = report.metrics[scorer];
  const threshold = report.thresholds[scorer];
  const stats = metric ? `mean ${formatScore(metric.mean)} ${formatStderr(metric.stderr)} 95% CI ${formatCi(metric.ci)} over ${metric.n} samples` : "no metric";
  return `${scorer}: ${stats}; threshold ${threshold === undefined ? "none" : formatScore(threshold)}; gate ${gateLabel(report)}`;
}

/** The run as JUnit XML, for CI test-report views; see the layout comment at the top of this file. */
export function toJUnitXml(report: EvalReport): string {
  let tests = 0;
  let failures = 0;
  let errors = 0;
  const suites = scorerNames(report).map((scorer) => {
    const cases = report.samples.map((sample) => testCase(report, scorer, sample));
    const suite = {
      name: `${report.suite}${report.variant ? `.${report.variant}` : ""}.${scorer}`,
      tests: cases.length,
      failures: cases.filter((entry) => entry.failed).length,
      errors: cases.filter((entry) => entry.errored).length,
      skipped: 0,
      time: formatSeconds(cases.reduce((sum, entry) => sum + entry.seconds, 0)),
      timestamp: report.createdAt,
    };
    tests += suite.tests;
    failures += suite.failures;
    errors += suite.errors;
    const body = [properties(report, scorer), ...cases.map((entry) => entry.xml), `    ${element("system-out", {}, summary(report, scorer))}`];
    return `  <testsuite${attributes(suite)}>\n${body.join("\n")}\n  </testsuite>`;
  });
  const root = attributes({ name: report.suite, tests, failures, errors, time: formatSeconds(report.durationMs) });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${root}>\n${suites.map((suite) => `${suite}\n`).join("")}</testsuites>\n`;
}
