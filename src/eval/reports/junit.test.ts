import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { HOSTILE_OUTPUT, hostileReport } from "./fixture.test-helper.ts";
import { escapeXmlAttribute, escapeXmlText, toJUnitXml } from "./junit.ts";

const SCHEMA = fileURLToPath(new URL("../../../test/fixtures/junit/jenkins-junit.xsd", import.meta.url));
const INSTALL = "xmllint is not on PATH; install it with: apt-get install -y --no-install-recommends libxml2-utils";

/** Runs xmllint; CI installs it, so its absence fails the test rather than skipping it. */
function xmllint(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("xmllint", args, { encoding: "utf8" });
  if (result.error) throw new Error(`${INSTALL} (${result.error.message})`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeXml(xml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "conclave-junit-")), "report.xml");
  writeFileSync(file, xml);
  return file;
}

/** An XPath 1.0 value from the file; xmllint prints string results with a trailing newline. */
const xpath = (file: string, expression: string): string => xmllint(["--xpath", expression, file]).stdout.replace(/\n$/, "");

describe("toJUnitXml", () => {
  const report = hostileReport();
  const xml = toJUnitXml(report);
  const file = writeXml(xml);

  it("validates against the Jenkins JUnit schema", () => {
    for (const candidate of [xml, toJUnitXml(hostileReport({ passing: true })), toJUnitXml({ ...report, scorers: [], metrics: {} })]) {
      const result = xmllint(["--noout", "--schema", SCHEMA, writeXml(candidate)]);
      expect(result.stderr).toMatch(/validates/);
      expect(result.status).toBe(0);
    }
  });

  it("counts tests, failures and errors: one suite per scorer, one case per sample", () => {
    // exact (threshold 0.75): s2 0.5 fails, s3 errored. f1 (no threshold, so below 1 fails): s1, s2, s4 fail, s3 errored.
    expect(xpath(file, "concat(/testsuites/@tests, ' ', /testsuites/@failures, ' ', /testsuites/@errors)")).toBe("8 4 2");
    expect(xpath(file, "concat(//testsuite[1]/@name, '|', //testsuite[1]/@failures, '|', //testsuite[1]/@errors)")).toBe("arith <&> suite.majority@2.exact|1|1");
    expect(xpath(file, "concat(//testsuite[2]/@tests, ' ', //testsuite[2]/@failures, ' ', //testsuite[2]/@errors)")).toBe("4 3 1");
    expect(xpath(file, "count(//testcase)")).toBe("8");
    expect(xpath(file, "count(//testcase[failure])")).toBe("4");
    expect(xpath(file, "count(//testcase[error])")).toBe("2");
    expect(xpath(file, "count(//testcase[error and failure])")).toBe("0");
    expect(xpath(file, "string(//testsuite[1]/testcase[2]/failure/@message)")).toBe("exact 0.500 < threshold 0.750");
    expect(xpath(file, "string(//testsuite[2]/testcase[1]/failure/@message)")).toBe("f1 0.950 < 1 (no threshold set)");
    expect(xpath(file, "string(//testsuite[1]/testcase[3]/error/@message)")).toBe("epoch 1: timeout after 30 s <boom>");
    expect(xpath(file, "string(//testsuite[1]/testcase[1]/@time)")).toBe("1.700");
  });

  it("carries model and settings as properties", () => {
    expect(xpath(file, "string(//testsuite[1]/properties/property[@name='model']/@value)")).toBe("scripted/fake-model (offline)");
    expect(xpath(file, "string(//testsuite[1]/properties/property[@name='settings.epochs']/@value)")).toBe("2");
    expect(xpath(file, "string(//testsuite[1]/properties/property[@name='threshold']/@value)")).toBe("0.75");
    expect(xpath(file, "string(//testsuite[1]/properties/property[@name='gate']/@value)")).toBe("FAILED");
  });

  it("escapes markup and replaces characters XML 1.0 cannot carry, keeping the text readable", () => {
    expect(xml).not.toContain("<script>");
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    const out = xpath(file, "string(//testsuite[1]/testcase[2]/system-out)");
    expect(out).toContain(`<script>alert(1)</script> "quoted" & 'single' ]]> bell\\u0007 nul\\u0000 end`);
    expect(HOSTILE_OUTPUT).toContain("\u0007");
    expect(xpath(file, "string(//testsuite[1]/testcase[4]/@name)")).toBe(`s4 <&>"'`);
    expect(xpath(file, "string(//testsuite[1]/testcase[4]/system-out)")).toContain("ok \ufffd lone");
  });

  it("escapes text and attributes", () => {
    expect(escapeXmlText(`a<b>&"c"\u0001\ud800`)).toBe(`a&lt;b&gt;&amp;"c"\\u0001\ufffd`);
    expect(escapeXmlText("pair \ud83d\ude00 kept\ufffe")).toBe("pair \ud83d\ude00 kept\ufffd");
    expect(escapeXmlAttribute(`"it's"\tline\nnext\r`)).toBe("&quot;it&apos;s&quot;&#9;line&#10;next&#13;");
  });

  it("clips long outputs", () => {
    const long = { ...report, samples: report.samples.map((sample) => ({ ...sample, epochs: sample.epochs.map((epoch) => ({ ...epoch, output: "y".repeat(5_000) })) })) };
    const out = toJUnitXml(long);
    expect(out).not.toContain("y".repeat(1_001));
    expect(out).toContain(`${"y".repeat(999)}…`);
  });
});
