import { loadConfig } from "../../config/load.ts";
import { loadGraph, readRegistry } from "../../graph/registry.ts";
import type { RegistryEntry } from "../../graph/registry.ts";
import { parseCommandArgs } from "../args.ts";
import type { CliIO } from "../output.ts";

/** `conclave graphs`: every registered graph with where it lives and what it does. */
export async function graphsCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs("graphs", argv, { json: { type: "boolean" } });
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, ...(values.config ? { file: values.config } : {}) });
  const entries = readRegistry(loaded.config, loaded.cwd);
  const defaultName = loaded.config.defaultGraph ?? entries[0]?.name;
  const rows: Array<RegistryEntry & { description: string; default: boolean; sample?: string }> = [];
  for (const entry of entries) {
    let description: string;
    let sample: string | undefined;
    try {
      const definition = await loadGraph(entry.name, loaded.config, loaded.cwd);
      description = definition.description;
      sample = definition.sample;
    } catch (error) {
      description = `cannot load: ${(error as Error).message}`;
    }
    rows.push({ ...entry, description, default: entry.name === defaultName, ...(sample ? { sample } : {}) });
  }
  if (values.json) {
    io.stdout(`${JSON.stringify(rows)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    io.stdout(`No graphs registered. Add one to the "graphs" map of ${loaded.config.registry} or conclave.config.json.\n`);
    return 0;
  }
  const width = Math.max(...rows.map((row) => row.name.length));
  for (const row of rows) io.stdout(`${row.name.padEnd(width)}  ${row.description}${row.default ? " (default)" : ""}\n${" ".repeat(width)}  ${row.target}\n`);
  return 0;
}
