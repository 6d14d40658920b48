import type { BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate, FewShotChatMessagePromptTemplate, parseTemplate, renderTemplate } from "@langchain/core/prompts";
import { z } from "zod";
import { ConclaveError, DefinitionError } from "../errors.ts";

/**
 * One few-shot example: what the user said and what the model should answer. The input is text, or
 * variables rendered through the user template (only the variables that template uses are needed).
 */
export interface PromptExample<V extends z.ZodObject = z.ZodObject> {
  input: string | Partial<z.input<V>>;
  output: string;
}

export interface PromptOptions<V extends z.ZodObject> {
  /** Names the prompt in feedback and A/B results (default "prompt"). */
  name?: string;
  /** Tells revisions apart in feedback (default "1"): `prompt.id` is `name@version`. */
  version?: string;
  /** The user message, a mustache template: `"Classify this ticket: {{ticket}}"`. */
  template: string;
  /** The system message, a mustache template over the same variables. */
  system?: string;
  /** The variables the templates use, checked on every `format()`. */
  variables: V;
  /** Few-shot examples, rendered in order as user / assistant turns between the system message and the request. */
  examples?: ReadonlyArray<PromptExample<V>>;
}

/** A prompt made by `definePrompt`: `format(vars)` validates the variables and returns the messages to send. */
export interface Prompt<V extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly version: string;
  /** `name@version`, the label feedback and A/B tests record. */
  readonly id: string;
  readonly variables: V;
  /** LangChain's prompt, for `prompt.template.pipe(model)` and LangSmith. Call `format` instead to get the variables checked. */
  readonly template: ChatPromptTemplate;
  format(variables: z.input<V>): Promise<BaseMessage[]>;
}

/** `format()` got variables that do not match the prompt's schema: says which are missing or ill-typed and what was expected. */
export class PromptVariablesError extends ConclaveError {
  override name = "PromptVariablesError";
  constructor(prompt: string, problems: string[], expected: string) {
    super("PROMPT_VARIABLES_INVALID", "user", `Prompt "${prompt}" cannot be formatted: ${problems.join("; ")}. It expects { ${expected} }.`, { details: { prompt, problems, expected } });
  }
}

const OptionsSchema = z.object({
  name: z.string().min(1).optional(),
  version: z.string().min(1).optional(),
  template: z.string().min(1, "the template (the user message) must not be empty"),
  system: z.string().optional(),
  variables: z.custom<z.ZodObject>((value) => value instanceof z.ZodObject, "must be a zod object, e.g. z.object({ ticket: z.string() })"),
  examples: z.array(z.object({ input: z.union([z.string(), z.record(z.string(), z.unknown())]), output: z.string() })).optional(),
});

/**
 * A typed chat prompt: LangChain's `ChatPromptTemplate` (mustache, `{{var}}`) with a
 * `FewShotChatMessagePromptTemplate` for the examples, and a zod object for the variables. A
 * missing or ill-typed variable fails with `PromptVariablesError` naming what was expected,
 * instead of LangChain's mustache rendering it as an empty string. At definition time every
 * declared variable must be used and every used variable declared (names inside `{{#section}}`
 * blocks may be fields of the section's items).
 *
 * @example
 * const classify = definePrompt({
 *   name: "classify", version: "2",
 *   system: "Label support tickets as one of: billing, bug, other.",
 *   template: "Ticket: {{ticket}}",
 *   variables: z.object({ ticket: z.string().min(1) }),
 *   examples: [{ input: { ticket: "I was charged twice" }, output: "billing" }],
 * });
 * const messages = await classify.format({ ticket: "The app crashes on login" });
 */
export function definePrompt<V extends z.ZodObject>(options: PromptOptions<V>): Prompt<V> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new DefinitionError(`Invalid prompt definition: ${z.prettifyError(parsed.error)}. Pass { template: "…{{var}}…", variables: z.object({ var: … }) }.`);
  const { name = "prompt", version = "1", template, system, variables, examples = [] } = options;
  const declared = Object.keys(variables.shape);
  checkVariables(name, [template, ...(system === undefined ? [] : [system])], declared);

  // Examples given as variables are rendered with the request's own template, so they read like real requests.
  const forTemplate = narrow(variables, variablesOf([template]).filter((key) => declared.includes(key)));
  const rendered = examples.map((example, index) => ({ input: typeof example.input === "string" ? example.input : renderExample(name, template, forTemplate, example.input, index), output: example.output }));
  const fewShot = new FewShotChatMessagePromptTemplate({
    // Triple braces: example text is inserted verbatim (LangChain's mustache does not escape either; this says so).
    examplePrompt: ChatPromptTemplate.fromMessages([["human", "{{{input}}}"], ["ai", "{{{output}}}"]], { templateFormat: "mustache" }),
    examples: rendered,
    inputVariables: [],
    templateFormat: "mustache",
  });
  const parts: Array<[string, string] | FewShotChatMessagePromptTemplate> = [...(system === undefined ? [] : [["system", system] as [string, string]]), fewShot, ["human", template]];
  const chat = ChatPromptTemplate.fromMessages(parts as Parameters<typeof ChatPromptTemplate.fromMessages>[0], { templateFormat: "mustache" });
  const expected = describeShape(variables);

  return Object.freeze({
    name,
    version,
    id: `${name}@${version}`,
    variables,
    template: chat,
    async format(values: z.input<V>): Promise<BaseMessage[]> {
      const checked = variables.safeParse(values);
      if (!checked.success) throw new PromptVariablesError(name, checked.error.issues.map((issue) => describeIssue(issue, values)), expected);
      return chat.formatMessages(checked.data as Record<string, unknown>);
    },
  });
}

/** Declared but unused variables are typos in waiting; used but undeclared ones would render as "". */
function checkVariables(prompt: string, templates: string[], declared: string[]): void {
  const used = new Set(variablesOf(templates));
  const hasSections = templates.some((text) => /\{\{\s*[#^]/.test(text));
  const undeclared = [...used].filter((name) => !declared.includes(name));
  // Names inside a section may be fields of its items, which the schema declares inside the section's variable.
  if (undeclared.length && !hasSections) throw new DefinitionError(`Prompt "${prompt}" uses ${undeclared.map((name) => `{{${name}}}`).join(", ")} but its variables schema does not declare ${undeclared.length === 1 ? "it" : "them"}. Add ${undeclared.join(", ")} to variables, or fix the template.`);
  const unused = declared.filter((name) => !used.has(name));
  if (unused.length) throw new DefinitionError(`Prompt "${prompt}" declares ${unused.join(", ")} but no template uses ${unused.length === 1 ? "it" : "them"}. Use {{${unused[0]}}} in the template or system message, or remove it from variables.`);
}

function variablesOf(templates: string[]): string[] {
  return templates.flatMap((text) => parseTemplate(text, "mustache").flatMap((node) => (node.type === "variable" ? [node.name] : [])));
}

/** The schema of just `keys`, to check an example's variables; a refined schema cannot be narrowed, so it checks them all. */
function narrow(variables: z.ZodObject, keys: string[]): z.ZodObject {
  try {
    return variables.pick(Object.fromEntries(keys.map((key) => [key, true as const])) as Parameters<typeof variables.pick>[0]);
  } catch {
    return variables;
  }
}

function renderExample(prompt: string, template: string, variables: z.ZodObject, input: unknown, index: number): string {
  const checked = variables.safeParse(input);
  if (!checked.success) throw new DefinitionError(`Example ${index + 1} of prompt "${prompt}" has invalid variables: ${checked.error.issues.map((issue) => describeIssue(issue, input)).join("; ")}. Give it the variables the template uses, as format() would get them, or its input as text.`);
  return renderTemplate(template, "mustache", checked.data as Record<string, unknown>);
}

function describeIssue(issue: z.core.$ZodIssue, values: unknown): string {
  const path = issue.path.map(String).join(".") || "(variables)";
  if (issue.code === "invalid_type" && valueAt(values, issue.path) === undefined) return `missing "${path}" (expected ${issue.expected})`;
  return `"${path}": ${issue.message}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((current, key) => (typeof current === "object" && current !== null ? (current as Record<PropertyKey, unknown>)[key] : undefined), value);
}

/** "ticket: string, tags?: array" from the schema, for error messages. */
function describeShape(variables: z.ZodObject): string {
  const json = z.toJSONSchema(variables, { unrepresentable: "any", io: "input" }) as { properties?: Record<string, { type?: unknown }>; required?: string[] };
  return Object.entries(json.properties ?? {})
    .map(([key, property]) => `${key}${json.required?.includes(key) ? "" : "?"}: ${Array.isArray(property.type) ? property.type.join(" | ") : String(property.type ?? "any")}`)
    .join(", ");
}
