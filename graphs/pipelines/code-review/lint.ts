import js from "@eslint/js";
import { ESLint } from "eslint";
import type { Linter } from "eslint";
import { join } from "node:path";
import tseslint from "typescript-eslint";
import type { ChangedFile, Finding } from "./state.ts";

/** Files ESLint can parse with this configuration (JavaScript and TypeScript, with JSX). */
export const LINTABLE = /\.(?:[cm]?[jt]sx?)$/i;

/**
 * Rules that need the whole file to be right: in a "partial" file the lines the diff does not
 * show are blank, so a variable used only there looks unused. Their findings are kept, as warnings.
 */
const WHOLE_FILE_RULES = new Set(["no-unused-vars", "@typescript-eslint/no-unused-vars", "no-undef", "no-redeclare", "@typescript-eslint/no-redeclare"]);

/** Globals of Node and the browser that plain JavaScript may use without declaring them. */
const RUNTIME_GLOBALS = Object.fromEntries(
  ["console", "process", "Buffer", "URL", "URLSearchParams", "fetch", "globalThis", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "structuredClone", "AbortController", "TextEncoder", "TextDecoder", "require", "module", "exports", "__dirname", "__filename", "window", "document"].map((name) => [name, "readonly" as const]),
);

/** ESLint's and typescript-eslint's recommended rules, with no config file: the review must not depend on the repository's own setup. */
function lintConfig(): Linter.Config[] {
  return [
    { files: ["**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}"], ...js.configs.recommended },
    ...(tseslint.configs.recommended as Linter.Config[]),
    { files: ["**/*.{js,mjs,cjs,jsx,ts,mts,cts,tsx}"], languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: RUNTIME_GLOBALS, parserOptions: { ecmaFeatures: { jsx: true } } } },
  ];
}

/**
 * Lints each changed JavaScript/TypeScript file's new text with ESLint (`lintText`, in memory) and
 * keeps only the problems on lines the change added: what was already there is not this change's.
 */
export async function lintChangedFiles(files: readonly ChangedFile[], cwd: string): Promise<{ findings: Finding[]; notes: string[] }> {
  const eslint = new ESLint({ cwd, overrideConfigFile: true, overrideConfig: lintConfig() });
  const findings: Finding[] = [];
  const notes: string[] = [];
  for (const file of files.filter((candidate) => LINTABLE.test(candidate.path))) {
    const [result] = await eslint.lintText(file.text, { filePath: join(cwd, file.path), warnIgnored: true });
    const added = new Set(file.added);
    for (const message of result?.messages ?? []) {
      if (message.ruleId === null) {
        // A parse error in a partial file is usually the blanks between hunks, not the change.
        if (message.fatal && file.source !== "partial" && added.has(message.line)) findings.push(finding(file.path, message, "error", "parse-error"));
        else notes.push(`${file.path}: ESLint: ${message.message}${message.fatal && file.source === "partial" ? " (the diff shows only part of the file, so it was not fully checked)" : ""}`);
        continue;
      }
      if (!added.has(message.line)) continue;
      const partial = file.source === "partial" && WHOLE_FILE_RULES.has(message.ruleId);
      const severity = message.severity === 2 && !partial ? "error" : "warning";
      findings.push(finding(file.path, message, severity, message.ruleId, partial ? " (the diff shows only part of the file; check the rest)" : ""));
    }
  }
  return { findings, notes };
}

function finding(file: string, message: Linter.LintMessage, severity: Finding["severity"], rule: string, suffix = ""): Finding {
  return { source: "eslint", rule, severity, file, line: message.line, message: message.message + suffix };
}
