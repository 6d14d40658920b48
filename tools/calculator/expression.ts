/**
 * A safe arithmetic evaluator: a tokenizer plus a recursive-descent parser that computes as it parses.
 * Input never reaches `eval` or `Function`, so a model or a user can hand it any text.
 */

/** Longest input accepted; it also bounds recursion depth and the work `findExpression` does per candidate. */
const MAX_LENGTH = 500;
const HINT = "Use numbers, + - * / % ^ ( ), and functions like sqrt(x).";

/** An expression that cannot be evaluated; the message says what is wrong and how to fix it. */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
  /** The whole input that failed. */
  readonly expression: string;
  /** 0-based index of the offending character, or the input's length when it ended too early. */
  readonly position: number;

  constructor(message: string, expression: string, position: number) {
    super(message);
    this.expression = expression;
    this.position = position;
  }
}

type FunctionSpec = { readonly minArgs: number; readonly maxArgs: number; readonly usage: string; readonly apply: (args: number[]) => number };

const UNARY_FUNCTIONS = ["sqrt", "abs", "round", "floor", "ceil", "log", "log10", "exp", "sin", "cos", "tan"] as const;
// Maps, not object literals, so names like "constructor" or "__proto__" cannot reach Object.prototype.
const CONSTANTS = new Map<string, number>([["pi", Math.PI], ["e", Math.E]]);
const FUNCTIONS = new Map<string, FunctionSpec>([
  ...UNARY_FUNCTIONS.map((name): [string, FunctionSpec] => [name, { minArgs: 1, maxArgs: 1, usage: `${name}(x)`, apply: (args) => Math[name](args[0] ?? Number.NaN) }]),
  ...(["min", "max"] as const).map((name): [string, FunctionSpec] => [name, { minArgs: 1, maxArgs: Number.POSITIVE_INFINITY, usage: `${name}(a, b, ...)`, apply: (args) => Math[name](...args) }]),
]);
const ALLOWED_NAMES = [...CONSTANTS.keys(), ...FUNCTIONS.keys()].join(", ");

/** Shared by the evaluator and `findExpression`, so both agree on what a token is. */
const TOKEN = /(\s+)|(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|([a-z_]\w*)|(\*\*|[-+*/%^(),×÷])/iy;
const OPERATOR_ALIASES = new Map([["**", "^"], ["×", "*"], ["÷", "/"]]);
/** Binary operators by precedence, loosest first; ^ is handled apart because it is right-associative. */
const LEVELS: readonly (readonly string[])[] = [["+", "-"], ["*", "/", "%"]];

/** `text` is normalised: operators map to ASCII (× to *, ** to ^) and names are lower-cased, so "PI" works. */
type Token = { readonly kind: "space" | "number" | "name" | "op" | "end"; readonly text: string; readonly raw: string; readonly pos: number };

function readToken(source: string, pos: number): Token | undefined {
  TOKEN.lastIndex = pos;
  const m = TOKEN.exec(source);
  if (!m) return undefined;
  const raw = m[0];
  const kind = m[1] !== undefined ? "space" : m[2] !== undefined ? "number" : m[3] !== undefined ? "name" : "op";
  return { kind, text: kind === "name" ? raw.toLowerCase() : (OPERATOR_ALIASES.get(raw) ?? raw), raw, pos };
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (let pos = 0; pos < source.length; ) {
    const token = readToken(source, pos);
    if (!token) {
      const char = String.fromCodePoint(source.codePointAt(pos) ?? 0);
      throw new ExpressionError(`Unexpected character "${char}" at position ${pos} in "${source}". ${HINT}`, source, pos);
    }
    if (token.kind !== "space") tokens.push(token);
    pos += token.raw.length;
  }
  return tokens;
}

/** Computes while parsing. With `checked` off it only checks syntax, so `findExpression` still accepts "1/0". */
class Parser {
  /** Binary operators and function calls seen: tells a calculation from a bare number. */
  operations = 0;
  private index = 0;
  private readonly end: Token;

  constructor(private readonly source: string, private readonly tokens: Token[], private readonly checked: boolean) {
    this.end = { kind: "end", text: "", raw: "", pos: source.length };
  }

  parseAll(): number {
    const value = this.parseLevel(0);
    const extra = this.peek();
    if (extra.kind === "end") return value;
    if (extra.text === ")") throw this.fail(extra, 'Remove it or add a matching "(".');
    if (extra.text === ",") throw this.fail(extra, "Commas only separate function arguments; write numbers without thousands separators.");
    throw this.fail(extra, "Put an operator such as + or * between values.");
  }

  private peek(): Token {
    return this.tokens[this.index] ?? this.end;
  }

  private next(): Token {
    const token = this.peek();
    this.index++;
    return token;
  }

  private parseLevel(level: number): number {
    const ops = LEVELS[level];
    if (!ops) return this.parseUnary();
    let value = this.parseLevel(level + 1);
    while (ops.includes(this.peek().text)) {
      const op = this.next();
      value = this.binary(op, value, this.parseLevel(level + 1));
    }
    return value;
  }

  // Unary minus sits below ^ so that -2^2 is -(2^2), as in mathematics.
  private parseUnary(): number {
    const op = this.peek();
    if (op.text !== "-" && op.text !== "+") return this.parsePower();
    this.index++;
    const value = this.parseUnary();
    return op.text === "-" ? -value : value;
  }

  // The exponent recurses through parseUnary: that makes ^ right-associative and allows 2^-1.
  private parsePower(): number {
    const base = this.parsePrimary();
    return this.peek().text === "^" ? this.binary(this.next(), base, this.parseUnary()) : base;
  }

  private parsePrimary(): number {
    const token = this.next();
    if (token.kind === "number") return this.finite(Number(token.text), token);
    if (token.kind === "name") return this.parseName(token);
    if (token.text === "(") {
      const value = this.parseLevel(0);
      this.expectClose();
      return value;
    }
    if (token.kind === "end") {
      throw new ExpressionError(`Unexpected end of "${this.source}". Add a number or "(" after the last operator.`, this.source, token.pos);
    }
    throw this.fail(token, 'Expected a number, a name or "(" here.');
  }

  private parseName(token: Token): number {
    const constant = CONSTANTS.get(token.text);
    if (constant !== undefined) return constant;
    const fn = FUNCTIONS.get(token.text);
    if (!fn) {
      const message = `Unknown name "${token.raw}" at position ${token.pos} in "${this.source}". Allowed names: ${ALLOWED_NAMES}.`;
      throw new ExpressionError(message, this.source, token.pos);
    }
    if (this.next().text !== "(") throw this.fail(token, `Functions need parentheses: write ${fn.usage}.`);
    const args = this.peek().text === ")" ? [] : this.parseArguments();
    this.expectClose();
    if (args.length < fn.minArgs || args.length > fn.maxArgs) {
      const expected = `${fn.minArgs === fn.maxArgs ? "exactly" : "at least"} ${fn.minArgs} argument${fn.minArgs === 1 ? "" : "s"}`;
      const message = `Function "${token.text}" at position ${token.pos} in "${this.source}" takes ${expected} but got ${args.length}. Call it like ${fn.usage}.`;
      throw new ExpressionError(message, this.source, token.pos);
    }
    this.operations++;
    return this.finite(fn.apply(args), token);
  }

  private parseArguments(): number[] {
    const args = [this.parseLevel(0)];
    while (this.peek().text === ",") {
      this.index++;
      args.push(this.parseLevel(0));
    }
    return args;
  }

  private expectClose(): void {
    const token = this.next();
    if (token.text === ")") return;
    if (token.kind === "end") throw new ExpressionError(`Missing ")" at end of "${this.source}". Close every "(".`, this.source, token.pos);
    throw this.fail(token, 'Expected ")" or an operator here. Close every "(".');
  }

  private binary(op: Token, left: number, right: number): number {
    this.operations++;
    if ((op.text === "/" || op.text === "%") && right === 0 && this.checked) {
      const what = op.text === "/" ? "Division" : "Remainder";
      throw new ExpressionError(`${what} by zero in "${this.source}". Make the divisor after "${op.raw}" at position ${op.pos} non-zero.`, this.source, op.pos);
    }
    const ops: Record<string, number> = { "+": left + right, "-": left - right, "*": left * right, "/": left / right, "%": left % right };
    return this.finite(ops[op.text] ?? left ** right, op);
  }

  private finite(value: number, token: Token): number {
    if (Number.isFinite(value) || !this.checked) return value;
    const problem = Number.isNaN(value)
      ? "is not a real number. Keep inputs in the function's domain (e.g. sqrt and log need values >= 0)."
      : "is too large to represent (overflow). Use smaller numbers.";
    throw new ExpressionError(`Result of "${token.raw}" at position ${token.pos} in "${this.source}" ${problem}`, this.source, token.pos);
  }

  private fail(token: Token, fix: string): ExpressionError {
    return new ExpressionError(`Unexpected "${token.raw}" at position ${token.pos} in "${this.source}". ${fix}`, this.source, token.pos);
  }
}

/**
 * Evaluates an arithmetic expression without `eval`.
 *
 * Supports decimal numbers (`3`, `3.5`, `.5`, `1e3`), unary `+`/`-`, binary `+ - * / %`, `^` or `**`
 * (right-associative, tighter than unary minus: `-2^2 = -4`), `×`/`÷`, parentheses, the constants `pi`
 * and `e`, and the functions `sqrt abs round floor ceil min max log log10 exp sin cos tan` (`log` is
 * natural; angles are in radians). Names are case-insensitive.
 *
 * @param expression - At most 500 characters; whitespace is ignored.
 * @returns The finite numeric result.
 * @throws {ExpressionError} On empty or over-long input, unexpected characters, unknown names, wrong
 *   arity, unbalanced parentheses, trailing garbage, division or remainder by zero, and non-finite results.
 * @example evaluateExpression("17 * 23 + 4") // 395
 */
export function evaluateExpression(expression: string): number {
  if (expression.length > MAX_LENGTH) {
    const message = `Expression is too long (${expression.length} characters; the limit is ${MAX_LENGTH}). Shorten it or split it into steps.`;
    throw new ExpressionError(message, expression, MAX_LENGTH);
  }
  if (expression.trim() === "") throw new ExpressionError('Expression is empty. Write something like "2 + 3".', expression, expression.length);
  return new Parser(expression, tokenize(expression), true).parseAll();
}

/**
 * Formats a result for people: integers without decimals, other values rounded to at most 10
 * significant digits without trailing zeros, so floating-point noise disappears.
 *
 * @param value - Any number; non-finite values print as `String(value)`.
 * @returns The text, e.g. `"0.3"` for `0.1 + 0.2` and `"0.3333333333"` for `1 / 3`.
 */
export function formatNumber(value: number): string {
  // From 1e21 String() uses exponent notation anyway, so those are rounded like fractions.
  if (!Number.isFinite(value) || (Number.isInteger(value) && Math.abs(value) < 1e21)) return String(value);
  return String(Number(value.toPrecision(10)));
}

/**
 * Finds the longest arithmetic expression inside free text, e.g. `"What is 17 * 23 + 4?"` gives `"17 * 23 + 4"`.
 *
 * A match must compute something: at least one binary operator or function call, so bare numbers such as
 * `"2024"` do not count. Matches that only fail when evaluated (like `"1/0"`) are returned, so the caller
 * can report the error. Surrounding spaces and a trailing `?`, `.` or `=` are trimmed.
 *
 * @param text - Any text; of its words only allowed names (`sqrt`, `pi`, ...) can be part of a match.
 * @returns The expression, or undefined when the text contains none.
 */
export function findExpression(text: string): string | undefined {
  const search: Search = { text, best: "", attempts: MAX_ATTEMPTS };
  for (const tokens of tokenRuns(text)) {
    const depths = parenDepths(tokens);
    for (let first = 0; first < tokens.length; first++) longestFrom(search, tokens, depths, first);
  }
  return search.best === "" ? undefined : search.best.replace(/[\s?.=]+$/, "");
}

/** Caps parse attempts per `findExpression` call: each failing one is cheap, but long text could hold millions. */
const MAX_ATTEMPTS = 20_000;
type Search = { readonly text: string; best: string; attempts: number };

/** Stores in `search.best` the longest calculation starting at `tokens[first]`, if it beats the current one. */
function longestFrom(search: Search, tokens: Token[], depths: number[], first: number): void {
  const head = tokens[first];
  if (!head || !canStart(search.text, head) || splitsNumber(search.text, head.pos)) return;
  // Every token has at least one character, so no candidate within MAX_LENGTH spans more tokens than that.
  for (let last = Math.min(tokens.length - 1, first + MAX_LENGTH); last >= first; last--) {
    const tail = tokens[last];
    const end = tail ? tail.pos + tail.raw.length : 0;
    if (end - head.pos <= search.best.length || search.attempts <= 0) return;
    // Cheap filters before parsing: short enough, ends on an operand, parentheses balanced, no number cut in two.
    if (!tail || end - head.pos > MAX_LENGTH || !canEnd(tail) || depths[last + 1] !== depths[first] || splitsNumber(search.text, end)) continue;
    search.attempts--;
    const candidate = search.text.slice(head.pos, end);
    if (isCalculation(candidate, tokens.slice(first, last + 1))) {
      search.best = candidate;
      return;
    }
  }
}

/** Splits text into stretches of expression tokens (spaces dropped); any other character or word ends a stretch. */
function tokenRuns(text: string): Token[][] {
  const runs: Token[][] = [[]];
  let current: Token[] = runs[0] ?? [];
  for (let pos = 0; pos < text.length; ) {
    const token = readToken(text, pos);
    if (token && (token.kind !== "name" || CONSTANTS.has(token.text) || FUNCTIONS.has(token.text))) {
      if (token.kind !== "space") current.push(token);
    } else if (current.length > 0) {
      current = [];
      runs.push(current);
    }
    // Skip an unknown word whole, so "pie" is not read as "pi" followed by "e".
    pos += token ? token.raw.length : 1;
  }
  return runs;
}

/** `depths[k]` is the parenthesis nesting before `tokens[k]`; equal depths mean a balanced slice. */
function parenDepths(tokens: Token[]): number[] {
  const depths = [0];
  for (const token of tokens) depths.push((depths.at(-1) ?? 0) + (token.text === "(" ? 1 : token.text === ")" ? -1 : 0));
  return depths;
}

function canStart(text: string, token: Token): boolean {
  if (token.kind !== "op") return true;
  // "- 3 * 4" after a word is more likely prose ("Sam - 3 * 4") than a negative number.
  return token.text === "(" || ((token.text === "-" || token.text === "+") && /\S/.test(text[token.pos + 1] ?? " "));
}

function canEnd(token: Token): boolean {
  return token.kind !== "op" || token.text === ")";
}

// Positions inside `tokens` are relative to the whole text, not `candidate`; they only matter for messages, unused here.
function isCalculation(candidate: string, tokens: Token[]): boolean {
  const parser = new Parser(candidate, tokens, false);
  try {
    parser.parseAll();
    return parser.operations > 0;
  } catch (error) {
    if (error instanceof ExpressionError) return false;
    throw error;
  }
}

/** True when cutting at `index` would split a number such as "1,000" or "1.2.3", which would yield a fake match. */
function splitsNumber(text: string, index: number): boolean {
  const before = text.slice(Math.max(0, index - 2), index);
  const after = text.slice(index, index + 2);
  return (/[\d.]$/.test(before) && /^[\d.]/.test(after)) || (/\d[.,]$/.test(before) && /^\d/.test(after)) || (/\d$/.test(before) && /^[.,]\d/.test(after));
}
