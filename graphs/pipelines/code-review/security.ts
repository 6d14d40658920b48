import { REDACTED, Redactor } from "conclave";
import type { ChangedFile, Finding } from "./state.ts";

/** One security rule: what it looks for in an added line, and what to do about it. */
export interface SecurityRule {
  id: string;
  severity: Finding["severity"];
  /** The problem in the line (of a file whose whole new text is `file`), or undefined. Comment lines are only checked by rules that say so. */
  check: (line: string, file: string) => string | undefined;
  /** Also checked in comments (a secret in a comment leaks all the same). */
  inComments?: boolean;
}

/** Runtime's own secret shapes (`sk-` API keys, `Bearer` tokens), so what logs redact a review also refuses to merge. */
const shapes = new Redactor([], true);
/** `dbPassword = "…"`, `API_KEY: '…'`: a name that ends like a credential, given a literal of 8+ characters. */
const NAMED_SECRET = /\b([\w$]*?(?:password|passwd|secret|api_?key|apikey|access_?key|auth_?token|token|private_?key|client_?secret))\b["']?\s*[:=]\s*(["'`])([^"'`\s]{8,})\2/i;
const PLACEHOLDER = /^(?:x+|\*+|<[^>]*>|your[-_].*|changeme|example.*|dummy.*|test.*|\$\{.*)$/i;
/** A command string built from input: a template with `${…}`, or a concatenation. */
const BUILT_COMMAND = /\s*\(\s*(?:`[^`]*\$\{|["'][^"']*["']\s*\+|[\w$.]+\s*\+)/.source;
/** `const run = promisify(exec)`: the alias runs a shell just the same. */
const EXEC_ALIAS = /(?:const|let|var)\s+([\w$]+)\s*=\s*(?:util\.)?promisify\(\s*(?:child_process\.|childProcess\.|cp\.)?exec\s*\)/g;
const INSECURE_URL = /\bhttp:\/\/(?!(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?:[:/]|$))(?!www\.w3\.org\/)[^\s"'`)]+/i;
const TLS_OFF = /\brejectUnauthorized\s*:\s*false\b|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*["'`]?0|\bstrictSSL\s*:\s*false\b|\binsecureSkipVerify\s*:\s*true\b/;

/** The default rule set: eval, shell commands built from strings, hard-coded secrets, plain-http URLs, disabled TLS checks. */
export const SECURITY_RULES: readonly SecurityRule[] = [
  {
    id: "security/no-eval",
    severity: "critical",
    check: (line) => (/(?<![\w$.])eval\s*\(|\bnew\s+Function\s*\(/.test(line) ? "eval() / new Function() runs whatever string it is given as code; parse the data instead (JSON.parse, a lookup table)." : undefined),
  },
  {
    id: "security/exec-interpolation",
    severity: "critical",
    check: (line, file) => {
      const names = ["exec", "execSync", ...[...file.matchAll(EXEC_ALIAS)].map((match) => match[1]!)].map((name) => name.replace(/\$/g, "\\$"));
      const call = new RegExp(String.raw`(?:(?<![\w$.])|\b(?:child_process|childProcess|cp)\.)(?:${names.join("|")})` + BUILT_COMMAND);
      return call.test(line) ? "A shell command built by interpolation or concatenation lets its inputs inject commands; use execFile/spawn with an argument array." : undefined;
    },
  },
  {
    id: "security/hard-coded-secret",
    severity: "critical",
    inComments: true,
    check: (line) => {
      if (shapes.redact(line) !== line) return "A credential (an sk- API key or a Bearer token) is written into the code; load it from the environment or a secret store, and revoke this one.";
      const named = NAMED_SECRET.exec(line);
      return named && !PLACEHOLDER.test(named[3]!) ? `"${named[1]}" is assigned a literal secret; load it from the environment or a secret store, and revoke this one.` : undefined;
    },
  },
  {
    id: "security/insecure-url",
    severity: "error",
    check: (line) => {
      const url = INSECURE_URL.exec(line)?.[0];
      return url ? `${url} is plain http: traffic and credentials travel unencrypted; use https.` : undefined;
    },
  },
  {
    id: "security/tls-verification-disabled",
    severity: "critical",
    check: (line) => (TLS_OFF.test(line) ? "TLS certificate checks are switched off, so any server can impersonate the real one; trust the right CA instead." : undefined),
  },
];

const COMMENT = /^\s*(?:\/\/|\/\*|\*|#)/;

/** Checks every added line of every changed file against the rules; unchanged lines are not this change's to answer for. */
export function scanAddedLines(files: readonly ChangedFile[], rules: readonly SecurityRule[] = SECURITY_RULES): Finding[] {
  const findings: Finding[] = [];
  for (const file of files) {
    const lines = file.text.split("\n");
    for (const number of file.added) {
      const line = lines[number - 1] ?? "";
      const comment = COMMENT.test(line);
      for (const rule of rules) {
        if (comment && !rule.inComments) continue;
        const message = rule.check(line, file.text);
        if (message) findings.push({ source: "security", rule: rule.id, severity: rule.severity, file: file.path, line: number, message: mask(message) });
      }
    }
  }
  return findings;
}

/** Findings are printed and logged: a secret quoted in one would leak again. */
function mask(message: string): string {
  return shapes.redact(message).replace(/sk-[^\s"'`]*/g, REDACTED);
}
