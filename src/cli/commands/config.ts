import type { LoadedConfig } from "../../config/load.ts";
import { loadConfig } from "../../config/load.ts";
import { effectiveProvider, embeddingsProvider } from "../../models/resolve.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";

const SECRET = /key|secret|token|password/i;

/** `conclave config`: the effective configuration, each value with where it came from, secrets redacted. */
export async function configCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("config", argv, { json: { type: "boolean" } });
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, ...(values.config ? { file: values.config } : {}) });
  const rows = describeConfig(loaded);
  if (values.json) {
    io.stdout(`${JSON.stringify({ file: loaded.file ?? null, settings: rows })}\n`);
    return 0;
  }
  io.stdout(`config file: ${loaded.file ?? "(none: conclave.config.ts / conclave.config.json not found)"}\n`);
  const width = Math.max(...rows.map((row) => row.path.length));
  for (const row of rows) io.stdout(`${row.path.padEnd(width)}  ${show(row.value).padEnd(28)}  ${row.source}\n`);
  return 0;
}

/** Every setting as `{ path, value, source }`, with secrets redacted and the provider `auto` resolves to. */
export function describeConfig(loaded: LoadedConfig): Array<{ path: string; value: unknown; source: string }> {
  const rows: Array<{ path: string; value: unknown; source: string }> = [];
  const visit = (value: unknown, path: string) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key);
      return;
    }
    rows.push({ path, value: redact(path, value), source: loaded.sources[path] ?? "default" });
  };
  visit(loaded.config, "");
  for (const [path, source] of Object.entries(loaded.sources)) {
    if (!rows.some((row) => row.path === path)) rows.push({ path, value: redact(path, valueAt(loaded.config, path)), source });
  }
  const provider = rows.find((row) => row.path === "model.provider");
  if (provider && provider.value === "auto") provider.value = `auto (→ ${effectiveProvider(loaded.config.model)})`;
  const embeddings = rows.find((row) => row.path === "embeddings.provider");
  if (embeddings && embeddings.value === "auto") embeddings.value = `auto (→ ${embeddingsProvider(loaded.config.embeddings)})`;
  for (const key of ["model.name", "model.baseUrl", "model.apiKey", "model.temperature", "corpus"]) {
    if (!rows.some((row) => row.path === key)) rows.push({ path: key, value: "(unset)", source: "default" });
  }
  return rows.sort((a, b) => a.path.localeCompare(b.path));
}

function show(value: unknown): string {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

function redact(path: string, value: unknown): unknown {
  if (!SECRET.test(path.split(".").at(-1) ?? "") || typeof value !== "string") return value;
  return value.length > 8 ? `***${value.slice(-4)}` : "***";
}

function valueAt(config: object, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined), config);
}
