import type { z } from "zod";
import type { TaskOutput } from "../types.ts";
import { clip } from "./shared.ts";
import type { PureScorer } from "./shared.ts";

/**
 * The JSON value a text holds: the whole text, else the first ```json fenced block, else the span
 * from the first "{" or "[" to the last matching "}" or "]". Undefined when none parses.
 */
export function parseJsonFrom(text: string): { value: unknown } | undefined {
  const attempts = [text.trim(), /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text)?.[1]];
  for (const [open, close] of [["{", "}"], ["[", "]"]] as const) {
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start >= 0 && end > start) attempts.push(text.slice(start, end + 1));
  }
  for (const attempt of attempts) {
    if (!attempt) continue;
    try {
      return { value: JSON.parse(attempt) as unknown };
    } catch {
      // Try the next candidate.
    }
  }
  return undefined;
}

/** "path.to[0]: message" for each zod issue. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`)).join("").replace(/^\./, "");
    return `${path || "(root)"}: ${issue.message}`;
  });
}

/**
 * 1 when the answer validates against the zod schema. The value checked is `pick(output)` if
 * given; else the task's raw output when it is an object (an agent's structured answer); else the
 * JSON parsed from the answer text. The reason lists zod's issues.
 */
export function matchesSchema(schema: z.ZodType, options: { pick?: (output: TaskOutput) => unknown; name?: string } = {}): PureScorer {
  const name = options.name ?? "matches-schema";
  return {
    name,
    description: "1 = the answer is JSON that satisfies the schema",
    score({ output }) {
      let value: unknown;
      if (options.pick) value = options.pick(output);
      else if (typeof output.output === "object" && output.output !== null) value = output.output;
      else {
        const parsed = parseJsonFrom(output.text);
        if (!parsed) return { score: 0, reason: `The answer holds no JSON: "${clip(output.text)}".` };
        value = parsed.value;
      }
      const result = schema.safeParse(value);
      if (result.success) return { score: 1, reason: "The answer matches the schema." };
      const issues = describeIssues(result.error.issues);
      return { score: 0, reason: `The answer does not match the schema: ${issues.join("; ")}.`, details: { issues } };
    },
  };
}
