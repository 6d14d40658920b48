import { ToolInputParsingException } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import { ExpressionError } from "./expression.ts";
import { calculator } from "./index.ts";

/** Invokes the calculator and returns its rejection, failing the test if it resolves. */
async function rejection(args: unknown): Promise<Error> {
  const outcome = await calculator.invoke(args as never).then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected calculator(${JSON.stringify(args)}) to fail, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

describe("calculator tool", () => {
  it("is named and described for the model", () => {
    expect(calculator.name).toBe("calculator");
    expect(calculator.description).toMatch(/arithmetic/i);
  });

  it("evaluates 17 * 23 + 4 and echoes the expression", async () => {
    const output: string = await calculator.invoke({ expression: "17 * 23 + 4" });
    expect(output).toContain("= 395");
    expect(output).toBe("17 * 23 + 4 = 395");
  });

  it.each([
    ["  (2 + 3) * 4  ", "(2 + 3) * 4 = 20"],
    ["0.1 + 0.2", "0.1 + 0.2 = 0.3"],
    ["1 / 3", "1 / 3 = 0.3333333333"],
    ["2 ^ 10", "2 ^ 10 = 1024"],
    ["sqrt(144) + max(1, 7, 3)", "sqrt(144) + max(1, 7, 3) = 19"],
  ])("formats %j as %j", async (expression, expected) => {
    expect(await calculator.invoke({ expression })).toBe(expected);
  });

  it("returns a ToolMessage paired to the call id when invoked with a tool call", async () => {
    const output: unknown = await calculator.invoke({ name: "calculator", args: { expression: "6 * 7" }, id: "call_42", type: "tool_call" });
    expect(output).toMatchObject({ tool_call_id: "call_42", content: "6 * 7 = 42" });
  });

  it.each([
    ["1 / 0", /Division by zero/],
    ["5 % 0", /Remainder by zero/],
    ["2 +", /Unexpected end of "2 \+"/],
    ["(1 + 2", /Missing "\)"/],
    ["1 + 2)", /Unexpected "\)" at position 5/],
    ["foo(2)", /Unknown name "foo"/],
    ["sqrt(-1)", /not a real number/],
    ["3 $ 4", /Unexpected character "\$" at position 2/],
    ["1,000 + 1", /Commas only separate function arguments/],
    ["sqrt 4", /Functions need parentheses/],
    ["max()", /takes at least 1 argument but got 0/],
    ["10 ^ 400", /too large to represent/],
  ])("rejects %j with a message naming the problem", async (expression, problem) => {
    const error = await rejection({ expression });
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error.message).toMatch(problem);
  });

  it("rejects a whitespace-only expression as empty", async () => {
    const error = await rejection({ expression: "   " });
    expect(error.message).toMatch(/Expression is empty/);
  });

  it("fails schema validation when the expression is missing", async () => {
    const error = await rejection({});
    expect(error).toBeInstanceOf(ToolInputParsingException);
    expect(error.message).toMatch(/did not match expected schema/);
    expect(error.message).toMatch(/expression/);
  });

  it("fails schema validation when the expression is empty", async () => {
    const error = await rejection({ expression: "" });
    expect(error).toBeInstanceOf(ToolInputParsingException);
    expect(error.message).toMatch(/expression/);
  });

  it("fails schema validation when the expression is not a string", async () => {
    expect(await rejection({ expression: 395 })).toBeInstanceOf(ToolInputParsingException);
  });

  it("fails schema validation when the expression is over 500 characters", async () => {
    expect(await rejection({ expression: "1+".repeat(300) + "1" })).toBeInstanceOf(ToolInputParsingException);
  });
});
