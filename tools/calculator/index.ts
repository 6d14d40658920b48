import { defineTool } from "conclave";
import { z } from "zod";
import { evaluateExpression, formatNumber } from "./expression.ts";

/**
 * Exact arithmetic for agents: models are poor at multi-digit arithmetic, so they should call this.
 * A bad expression comes back as an error observation that says what to fix.
 */
export const calculator = defineTool({
  name: "calculator",
  description: "Evaluates an arithmetic expression exactly: + - * / % ^, parentheses, sqrt, abs, round, min, max, log, exp, sin, cos, tan, pi, e. Use it for every calculation instead of computing in your head.",
  schema: z.object({
    expression: z.string().min(1).max(500).describe("The arithmetic expression, for example 17 * 23 + 4"),
  }),
  run: ({ expression }) => `${expression.trim()} = ${formatNumber(evaluateExpression(expression))}`,
});
