import fs from "node:fs";
import path from "node:path";
import { SecretsError } from "./errors.ts";

/** The default secrets file, relative to the working folder. */
export const DEFAULT_SECRETS_FILE = ".conclave/secrets.env";

/** Names whose values are secret (API keys, tokens, passwords…). */
export const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)/i;

/** Secret values shorter than this are not redacted: they would mask ordinary words. */
export const MIN_SECRET_LENGTH = 8;

export interface LoadSecretsOptions {
  /** The environment (default `process.env`); it wins over the file. */
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** The secrets file, relative to `cwd` (default `.conclave/secrets.env`). A file named here must exist. */
  file?: string;
}

export interface Secrets {
  /** The file's values with the environment on top (the environment wins). */
  values: Record<string, string>;
  /** Every value (from the environment and the file) whose name looks secret and is at least 8 characters long. */
  secretValues: string[];
  /** Things the user should fix (e.g. a secrets file others can read); returned, never printed. */
  warnings: string[];
  /** The secrets file that was read, when there was one. */
  file?: string;
}

/** Reads secrets from the environment and a dotenv-style file; see {@link parseSecretsFile} for the format. */
export function loadSecrets(options: LoadSecretsOptions): Secrets {
  const env = options.env ?? process.env;
  const file = path.resolve(options.cwd, options.file ?? DEFAULT_SECRETS_FILE);
  const warnings: string[] = [];
  let fromFile: Record<string, string> = {};
  let read = false;
  try {
    fromFile = parseSecretsFile(fs.readFileSync(file, "utf8"), file);
    read = true;
  } catch (error) {
    if (error instanceof SecretsError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" || options.file !== undefined) {
      throw new SecretsError(`Cannot read the secrets file ${file}: ${(error as Error).message}. Create it (KEY=value lines) or point to an existing file.`, { cause: error, details: { file } });
    }
  }
  if (read && process.platform !== "win32") {
    const mode = fs.statSync(file).mode;
    if ((mode & 0o077) !== 0) {
      warnings.push(`The secrets file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}). Run: chmod 600 ${file}`);
    }
  }
  const values: Record<string, string> = { ...fromFile };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) values[key] = value;
  const secretValues = new Set<string>();
  for (const source of [fromFile, env]) {
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_NAME.test(key)) secretValues.add(value);
    }
  }
  return { values, secretValues: [...secretValues], warnings, ...(read ? { file } : {}) };
}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/;
const EXPECTED = 'expected KEY=value (optionally `export KEY=value`, a value in "double" or \'single\' quotes, or a # comment)';

/**
 * Parses dotenv-style text: `KEY=value` lines, `# comments`, blank lines, an optional `export `
 * prefix, and values in double quotes (with \n, \t, \" and \\ escapes) or single quotes (literal).
 * An unquoted value ends at ` #`. `file` only names the source in error messages.
 */
export function parseSecretsFile(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = LINE.exec(line);
    const value = match ? parseValue(match[2] ?? "") : undefined;
    if (!match || value === undefined) {
      throw new SecretsError(`${file}:${index + 1}: cannot read this line; ${EXPECTED}.`, { details: { file, line: index + 1 } });
    }
    values[match[1]!] = value;
  });
  return values;
}

/** The value of a `KEY=` right-hand side, or undefined when its quotes are not closed properly. */
function parseValue(rest: string): string | undefined {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = quote === '"' ? closingDoubleQuote(rest) : rest.indexOf("'", 1);
    if (end < 0) return undefined;
    const after = rest.slice(end + 1).trim();
    if (after !== "" && !after.startsWith("#")) return undefined;
    const inner = rest.slice(1, end);
    if (quote === "'") return inner;
    return inner.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
  }
  return rest.replace(/\s+#.*$/, "").trim();
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t" };

function closingDoubleQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
