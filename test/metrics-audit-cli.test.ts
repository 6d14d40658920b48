import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { STATE_DIR, runCli } from "./helpers/cli.ts";

// `conclave metrics` and `conclave audit verify` read what earlier runs left in the workspace: this
// file makes two offline runs, then checks the Prometheus text, the audit log's hash chain (intact,
// then with one edited line) and the thread list.

const RUNS = [
  { thread: "metrics-calc", task: "What is 17 * 23 + 4?" },
  { thread: "metrics-apollo", task: "When did Apollo 11 land on the Moon?" },
];

const AUDIT_LOG = join(STATE_DIR, "audit.jsonl");

interface Usage {
  modelCalls: number;
  toolCalls: number;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+]?([0-9.eE+-]+|NaN|\+Inf|-Inf)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$/;
const TYPES = ["counter", "gauge", "histogram", "summary", "untyped"];

/** Parses the Prometheus text format strictly enough to catch a malformed exposition; throws naming the bad line. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => families.get(name) ?? families.set(name, { name, samples: [] }).get(name)!;
  for (const [index, line] of text.split("\n").entries()) {
    const where = `line ${index + 1}: ${line}`;
    if (line.trim() === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment as unknown as [string, "HELP" | "TYPE", string, string];
      const entry = family(name);
      if (kind === "HELP") {
        if (entry.help !== undefined) throw new Error(`second # HELP for ${name} — ${where}`);
        entry.help = rest;
      } else {
        if (entry.type !== undefined) throw new Error(`second # TYPE for ${name} — ${where}`);
        if (!TYPES.includes(rest)) throw new Error(`unknown type "${rest}" — ${where}`);
        if (entry.samples.length) throw new Error(`# TYPE after samples of ${name} — ${where}`);
        entry.type = rest;
      }
      continue;
    }
    if (line.startsWith("#")) continue;
    if (!SAMPLE.test(line)) throw new Error(`not a sample — ${where}`);
    const [, name, body] = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?/.exec(line)!;
    const labels: Record<string, string> = {};
    for (const pair of body ? body.split(/,(?=[a-zA-Z_][a-zA-Z0-9_]*=")/) : []) {
      const match = LABEL.exec(pair);
      if (!match) throw new Error(`bad label ${pair} — ${where}`);
      if (match[1]! in labels) throw new Error(`label ${match[1]} twice — ${where}`);
      labels[match[1]!] = match[2]!;
    }
    const raw = line.slice(line.lastIndexOf(" ") + 1);
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (raw !== "NaN" && Number.isNaN(value)) throw new Error(`bad value ${raw} — ${where}`);
    // A histogram's or summary's series belong to the family they are named after.
    const base = name!.replace(/_(bucket|sum|count)$/, "");
    const owner = base !== name && ["histogram", "summary"].includes(families.get(base)?.type ?? "") ? base : name!;
    family(owner).samples.push({ name: name!, labels, value });
  }
  return families;
}

const total = (family: Family | undefined, where: (sample: Sample) => boolean = () => true) => (family?.samples ?? []).filter(where).reduce((sum, sample) => sum + sample.value, 0);

describe("the Prometheus text parser used here", () => {
  it("rejects malformed expositions, so a passing parse means something", () => {
    expect(() => parsePrometheus('m{a=b} 1')).toThrow(/bad label/);
    expect(() => parsePrometheus("m 1 2 3")).toThrow(/not a sample/);
    expect(() => parsePrometheus("# TYPE m counter\n# TYPE m counter")).toThrow(/second # TYPE/);
    expect(() => parsePrometheus("m 1\n# TYPE m counter")).toThrow(/TYPE after samples/);
    const parsed = parsePrometheus('# HELP h Latency.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\nplain NaN\n');
    expect(parsed.get("h")!.samples.map((sample) => sample.name)).toEqual(["h_bucket", "h_sum", "h_count"]);
    expect(parsed.get("plain")!.help).toBeUndefined();
  });
});

describe("conclave metrics, audit verify and runs after two offline runs", () => {
  const usages: Usage[] = [];

  beforeAll(async () => {
    for (const { thread, task } of RUNS) {
      const result = await runCli(["run", "--json", "--thread", thread, task]);
      expect(result.code, result.stderr).toBe(0);
      usages.push((JSON.parse(result.stdout) as { usage: Usage }).usage);
    }
  }, 60_000);

  it("conclave metrics prints Prometheus text that parses, with HELP and TYPE for every metric", async () => {
    const result = await runCli(["metrics"]);
    expect(result.code, result.stderr).toBe(0);
    const families = parsePrometheus(result.stdout);
    expect(families.size).toBeGreaterThan(0);
    for (const family of families.values()) {
      expect(family.help, `# HELP of ${family.name}`).toBeTruthy();
      expect(family.type, `# TYPE of ${family.name}`).toBeDefined();
    }

    const runs = families.get("conclave_runs_total")!;
    expect(runs.type).toBe("counter");
    expect(runs.samples).toEqual([{ name: "conclave_runs_total", labels: { graph: "research-team", status: "done" }, value: 2 }]);

    const requests = families.get("conclave_model_requests_total")!;
    expect(requests.type).toBe("counter");
    expect(total(requests)).toBeGreaterThan(0);
    // The metrics count what the runs reported: every model call and tool call of both runs.
    expect(total(requests)).toBe(usages.reduce((sum, usage) => sum + usage.modelCalls, 0));
    expect(total(requests, (sample) => sample.labels.status !== "ok")).toBe(0);
    expect(total(families.get("conclave_tool_calls_total"))).toBe(usages.reduce((sum, usage) => sum + usage.toolCalls, 0));

    const latency = families.get("conclave_model_request_duration_seconds")!;
    expect(latency.type).toBe("histogram");
    const counts = latency.samples.filter((sample) => sample.name.endsWith("_count"));
    expect(counts.reduce((sum, sample) => sum + sample.value, 0)).toBe(total(requests));
    for (const count of counts) {
      const inf = latency.samples.find((sample) => sample.name.endsWith("_bucket") && sample.labels.le === "+Inf" && sample.labels.agent === count.labels.agent && sample.labels.model === count.labels.model);
      expect(inf?.value, `+Inf bucket of ${JSON.stringify(count.labels)}`).toBe(count.value);
    }
  });

  it("conclave runs --json lists both threads as done", async () => {
    const result = await runCli(["runs", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const threads = JSON.parse(result.stdout) as Array<{ threadId: string; status: string; graph: string; task: string }>;
    for (const { thread, task } of RUNS) expect(threads.find((item) => item.threadId === thread), thread).toMatchObject({ status: "done", graph: "research-team", task });
  });

  describe("conclave audit verify", () => {
    it("exits 0 on the log the runs wrote: a config-change record, then the documents retrieve read", async () => {
      const records = readFileSync(AUDIT_LOG, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { seq: number; kind: string; threadId?: string; details: Record<string, unknown> });
      expect(records[0]).toMatchObject({ seq: 1, kind: "config-change" });
      // Both runs share one configuration: it is recorded once.
      expect(records.filter((record) => record.kind === "config-change")).toHaveLength(1);
      const reads = records.filter((record) => record.kind === "data-access");
      expect(reads.length).toBeGreaterThan(0);
      for (const read of reads) expect(read).toMatchObject({ threadId: "metrics-apollo", details: { tool: "retrieve", kind: "document" } });

      const result = await runCli(["audit", "verify"]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`audit log ${AUDIT_LOG}: ${records.length} records, hash chain intact\n`);
      const json = await runCli(["audit", "verify", "--json"]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ path: AUDIT_LOG, ok: true, records: records.length });
    });

    it("exits 1 naming the line whose details were edited, as text and as JSON, and checks another file with --file", async () => {
      // Keep an intact copy to check --file against.
      const intact = join(mkdtempSync(join(tmpdir(), "conclave-audit-")), "intact.jsonl");
      copyFileSync(AUDIT_LOG, intact);
      const lines = readFileSync(AUDIT_LOG, "utf8").split("\n");
      const target = lines.findIndex((line) => line.includes('"kind":"data-access"'));
      expect(target).toBeGreaterThan(0);
      const record = JSON.parse(lines[target]!) as { details: { resource: string } };
      const resource = record.details.resource;
      // One character inside details: the document id's last character.
      const edited = `${resource.slice(0, -1)}${resource.endsWith("9") ? "8" : "9"}`;
      lines[target] = lines[target]!.replace(`"resource":${JSON.stringify(resource)}`, `"resource":${JSON.stringify(edited)}`);
      expect(lines[target]).toContain(edited);
      writeFileSync(AUDIT_LOG, lines.join("\n"));
      const line = target + 1;

      const result = await runCli(["audit", "verify"]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe(`audit log ${AUDIT_LOG}: TAMPERED — line ${line}: hash does not match its contents — the line was edited (${line - 1} records check out before it)\n`);

      const json = await runCli(["audit", "verify", "--json"]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual({ path: AUDIT_LOG, ok: false, records: line - 1, problem: { line, reason: `line ${line}: hash does not match its contents — the line was edited` } });

      const copy = await runCli(["audit", "verify", "--file", intact]);
      expect(copy.code, copy.stdout).toBe(0);
      expect(copy.stdout).toContain(`audit log ${intact}: ${lines.filter(Boolean).length} records, hash chain intact`);
    });

    it("exits 2 with the reason when there is no audit log at --file", async () => {
      const missing = join(tmpdir(), "conclave-no-such-audit.jsonl");
      const result = await runCli(["audit", "verify", "--file", missing]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`There is no audit log at ${missing}`);
    });
  });
});
