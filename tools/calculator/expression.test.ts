import { describe, expect, it } from "vitest";
import { evaluateExpression, ExpressionError, findExpression, formatNumber } from "./expression.ts";

/** Runs `expression`, expecting an ExpressionError, and returns it for further checks. */
function failure(expression: string): ExpressionError {
  try {
    evaluateExpression(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return error as ExpressionError;
  }
  throw new Error(`expected "${expression}" to fail`);
}

describe("evaluateExpression", () => {
  describe("precedence and associativity", () => {
    it.each([
      ["17 * 23 + 4", 395],
      ["4 + 17 * 23", 395],
      ["12*(7+5)-3", 141],
      ["2^3^2", 512],
      ["(2^3)^2", 64],
      ["-2^2", -4],
      ["(-2)^2", 4],
      ["2^-1", 0.5],
      ["-2^-2", -0.25],
      ["10 % 4", 2],
      ["-7 % 3", -1],
      ["2 + 10 % 4 * 3", 8],
      ["10 - 4 - 3", 3],
      ["64 / 4 / 2", 8],
      ["2 * 3 ^ 2", 18],
      ["2 ** 3 ** 2", 512],
      ["--3", 3],
      ["+-+3", -3],
      ["3 - -2", 5],
      ["((((1))))", 1],
    ])("%s = %d", (expression, expected) => {
      expect(evaluateExpression(expression)).toBe(expected);
    });
  });

  describe("numbers and whitespace", () => {
    it.each([
      ["3", 3],
      ["3.5", 3.5],
      [".5", 0.5],
      ["3.", 3],
      ["1e3", 1000],
      ["1E3", 1000],
      ["2.5e-1", 0.25],
      ["1e+2", 100],
      ["0.1 + 0.2", 0.1 + 0.2],
      ["  1\t+\n2  ", 3],
      ["007", 7],
    ])("%s = %d", (expression, expected) => {
      expect(evaluateExpression(expression)).toBe(expected);
    });
  });

  it("accepts × and ÷ as * and /", () => {
    expect(evaluateExpression("6 × 7")).toBe(42);
    expect(evaluateExpression("84 ÷ 2")).toBe(42);
    expect(evaluateExpression("(12.5 - 2) × 3")).toBe(31.5);
    expect(evaluateExpression("2 + 3 × 4 ÷ 2")).toBe(8);
  });

  it("knows the constants pi and e, case-insensitively", () => {
    expect(evaluateExpression("pi")).toBe(Math.PI);
    expect(evaluateExpression("e")).toBe(Math.E);
    expect(evaluateExpression("2 * PI")).toBe(2 * Math.PI);
    expect(evaluateExpression("-e^2")).toBe(-(Math.E ** 2));
  });

  describe("functions", () => {
    it.each([
      ["sqrt(16)", 4],
      ["sqrt(16) + 1", 5],
      ["abs(-3.5)", 3.5],
      ["round(2.5)", 3],
      ["round(2.4)", 2],
      ["floor(-1.5)", -2],
      ["ceil(1.2)", 2],
      ["min(3, 1, 2)", 1],
      ["max(3, 1, 2)", 3],
      ["min(7)", 7],
      ["log(e)", 1],
      ["log10(1000)", 3],
      ["exp(0)", 1],
      ["sin(0)", 0],
      ["cos(0)", 1],
      ["tan(0)", 0],
      ["SQRT(9)", 3],
      ["max(1 + 1, 3 * 2, sqrt(49))", 7],
      ["sqrt(sqrt(16))", 2],
      ["-sqrt(4)^2", -4],
    ])("%s = %d", (expression, expected) => {
      expect(evaluateExpression(expression)).toBe(expected);
    });

    it("uses radians for trigonometry", () => {
      expect(evaluateExpression("sin(pi / 2)")).toBeCloseTo(1, 12);
      expect(evaluateExpression("cos(pi)")).toBeCloseTo(-1, 12);
    });
  });

  describe("errors", () => {
    it("rejects empty and blank input", () => {
      for (const input of ["", "   "]) {
        const error = failure(input);
        expect(error.message).toMatch(/empty/i);
        expect(error.position).toBe(input.length);
        expect(error.expression).toBe(input);
      }
    });

    it("rejects input longer than 500 characters but accepts 500", () => {
      const ok = `1${"+1".repeat(249)} `;
      expect(ok).toHaveLength(500);
      expect(evaluateExpression(ok)).toBe(250);
      const error = failure(`${ok}1`);
      expect(error.message).toMatch(/too long.*501.*500/);
      expect(error.position).toBe(500);
    });

    it("reports an unexpected character with its position and a hint", () => {
      const error = failure("2 + $3");
      expect(error.message).toBe('Unexpected character "$" at position 4 in "2 + $3". Use numbers, + - * / % ^ ( ), and functions like sqrt(x).');
      expect(error.position).toBe(4);
      expect(error.name).toBe("ExpressionError");
      expect(error).toBeInstanceOf(Error);
    });

    it.each([
      ["2 & 3", 2, "&"],
      ["1 = 1", 2, "="],
      ["2 · 3", 2, "·"],
      ["😀+1", 0, "😀"],
    ])("rejects the character in %s", (expression, position, char) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain(`Unexpected character "${char}"`);
    });

    it.each([
      ["foo + 1", 0, "foo"],
      ["2 * x", 4, "x"],
      ["constructor", 0, "constructor"],
      ["__proto__(1)", 0, "__proto__"],
      ["ln(2)", 0, "ln"],
    ])("rejects the unknown name in %s and lists the allowed ones", (expression, position, name) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain(`Unknown name "${name}"`);
      expect(error.message).toContain("Allowed names: pi, e, sqrt, abs, round, floor, ceil, log, log10, exp, sin, cos, tan, min, max.");
    });

    it.each([
      ["sqrt(1, 2)", 0, "exactly 1 argument but got 2"],
      ["sqrt()", 0, "exactly 1 argument but got 0"],
      ["1 + round(1, 2, 3)", 4, "exactly 1 argument but got 3"],
      ["max()", 0, "at least 1 argument but got 0"],
    ])("checks the arity in %s", (expression, position, text) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain(text);
      expect(error.message).toMatch(/Call it like \w+\(/);
    });

    it("requires parentheses after a function name", () => {
      const error = failure("sqrt 16");
      expect(error.position).toBe(0);
      expect(error.message).toContain("write sqrt(x)");
    });

    it("rejects calling a constant", () => {
      expect(failure("pi(2)").position).toBe(2);
    });

    it.each([
      ["1/0", 1, "Division by zero"],
      ["1 ÷ (2 - 2)", 2, "Division by zero"],
      ["5 % 0", 2, "Remainder by zero"],
      ["0/0", 1, "Division by zero"],
    ])("rejects %s", (expression, position, text) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain(`${text} in "${expression}".`);
    });

    it.each([
      ["1e308 * 10", 6, "too large"],
      ["10^400", 2, "too large"],
      ["exp(1000)", 0, "too large"],
      ["1e999", 0, "too large"],
      ["0^-1", 1, "too large"],
      ["sqrt(-1)", 0, "not a real number"],
      ["log(-1)", 0, "not a real number"],
      ["(-8)^(1/3)", 4, "not a real number"],
    ])("rejects the non-finite result of %s", (expression, position, text) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain(text);
    });

    it("reports a missing closing parenthesis at the end", () => {
      const error = failure("(1+2");
      expect(error.message).toBe('Missing ")" at end of "(1+2". Close every "(".');
      expect(error.position).toBe(4);
      expect(failure("sqrt(4").message).toContain('Missing ")"');
      expect(failure("((1)").position).toBe(4);
    });

    it("reports a stray closing parenthesis", () => {
      const error = failure("1+2)");
      expect(error.position).toBe(3);
      expect(error.message).toContain('Unexpected ")" at position 3');
      expect(error.message).toContain('matching "("');
      expect(failure(")").position).toBe(0);
      expect(failure("()").position).toBe(1);
    });

    it.each([
      ["2 3", 2],
      ["(1 2)", 3],
      ["2 pi", 2],
      ["1e", 1],
      ["1..2", 2],
    ])("rejects trailing garbage in %s", (expression, position) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toMatch(/^Unexpected "/);
    });

    it("explains that thousands separators are not allowed", () => {
      const error = failure("1,000 + 1");
      expect(error.position).toBe(1);
      expect(error.message).toContain("without thousands separators");
    });

    it.each(["1 +", "2 *", "-", "(", "2^"])("reports the unexpected end of %s", (expression) => {
      const error = failure(expression);
      expect(error.position).toBe(expression.length);
      expect(error.message).toContain("Unexpected end");
    });

    it.each([["* 2", 0], ["2 + * 3", 4], ["2 + ,", 4]])("rejects a misplaced operator in %s", (expression, position) => {
      const error = failure(expression);
      expect(error.position).toBe(position);
      expect(error.message).toContain("Expected a number");
    });
  });
});

describe("formatNumber", () => {
  it.each([
    [0.1 + 0.2, "0.3"],
    [1 / 3, "0.3333333333"],
    [2 / 3, "0.6666666667"],
    [395, "395"],
    [-4, "-4"],
    [0, "0"],
    [-0, "0"],
    [1e20, "100000000000000000000"],
    [2 ** 53, "9007199254740992"],
    [1.5, "1.5"],
    [-0.25, "-0.25"],
    [Math.PI, "3.141592654"],
    [123456.78901234, "123456.789"],
    [2.0000000000001, "2"],
    [1e-7, "1e-7"],
    [1e21 + 0.5, "1e+21"],
  ])("formats %d as %s", (value, expected) => {
    expect(formatNumber(value)).toBe(expected);
  });

  it("formats evaluated results", () => {
    expect(formatNumber(evaluateExpression("0.1 + 0.2"))).toBe("0.3");
    expect(formatNumber(evaluateExpression("1/3"))).toBe("0.3333333333");
    expect(formatNumber(evaluateExpression("sqrt(2)"))).toBe("1.414213562");
  });
});

describe("findExpression", () => {
  it.each([
    ["What is 17 * 23 + 4?", "17 * 23 + 4"],
    ["Compute (12.5 - 2) × 3 please", "(12.5 - 2) × 3"],
    ["12*(7+5)-3", "12*(7+5)-3"],
    ["  2 + 2 = ", "2 + 2"],
    ["2 + 2 = 4", "2 + 2"],
    ["Calculate 2+3.", "2+3"],
    ["sqrt(16) + 1", "sqrt(16) + 1"],
    ["what's sqrt(16) + 1?", "sqrt(16) + 1"],
    ["What is sqrt(2)?", "sqrt(2)"],
    ["Area: pi * 3^2", "pi * 3^2"],
    ["in 2021-2022", "2021-2022"],
    ["What is 1/0?", "1/0"],
    ["How much is -3 * 4?", "-3 * 4"],
    ["first 1 + 1, then 2 * 3 * 4", "2 * 3 * 4"],
    ["I said (2+3", "2+3"],
    ["e.g. 6 × 7", "6 × 7"],
    ["max(1, 2) * 3 apples", "max(1, 2) * 3"],
  ])("finds the expression in %j", (text, expected) => {
    const found = findExpression(text);
    expect(found).toBe(expected);
    expect(() => evaluateExpression(found ?? "")).not.toThrow(/Unexpected|Missing|Unknown/);
  });

  it.each([
    "What is 17?",
    "2024",
    "",
    "hello world",
    "-5 degrees",
    "pi",
    "1,000 + 5",
    "version 1.2.3+4",
    "pie + apple",
  ])("finds nothing in %j", (text) => {
    expect(findExpression(text)).toBeUndefined();
  });

  it("does not read a dash after a word as a negative sign", () => {
    expect(findExpression("Sam - 3 * 4")).toBe("3 * 4");
  });

  it("stays bounded on long text", () => {
    const text = `${"word 1 ".repeat(300)}then 2 + 2`;
    expect(findExpression(text)).toBe("2 + 2");
    expect(findExpression("(".repeat(5000))).toBeUndefined();
    expect(findExpression("1 ".repeat(5000))).toBeUndefined();
    const found = findExpression(`${"1+".repeat(2000)}1`) ?? "";
    expect(found).toHaveLength(500);
    expect(evaluateExpression(found)).toBe(250);
  });
});
