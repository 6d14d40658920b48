import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DefinitionError } from "../errors.ts";
import { scriptedModel } from "../testing/index.ts";
import { PromptVariablesError, definePrompt } from "./prompt-template.ts";

const classify = definePrompt({
  name: "classify",
  version: "2",
  system: "Label {{kind}} as one of: {{labels}}. Answer with the label only.",
  template: "Ticket: {{ticket}}{{#priority}} (priority {{priority}}){{/priority}}",
  variables: z.object({ kind: z.string(), labels: z.string(), ticket: z.string().min(1), priority: z.number().int().optional() }),
  examples: [
    // An example needs only the variables the user template uses (the system message's are the request's).
    { input: { ticket: "I was charged twice this month" }, output: "billing" },
    { input: "Ticket: The app crashes when I log in", output: "bug" },
    { input: { kind: "support tickets", labels: "billing, bug, other", ticket: "Do you ship to Norway?" }, output: "other" },
  ],
});

describe("definePrompt", () => {
  it("renders system, few-shot examples in order, then the request", async () => {
    const messages = await classify.format({ kind: "support tickets", labels: "billing, bug, other", ticket: "Refund my <order> & {{now}}" });
    expect(messages.map((message) => [message.getType(), message.text])).toEqual([
      ["system", "Label support tickets as one of: billing, bug, other. Answer with the label only."],
      ["human", "Ticket: I was charged twice this month"],
      ["ai", "billing"],
      ["human", "Ticket: The app crashes when I log in"],
      ["ai", "bug"],
      ["human", "Ticket: Do you ship to Norway?"],
      ["ai", "other"],
      // Values are inserted verbatim: no HTML escaping, and no second pass over braces they contain.
      ["human", "Ticket: Refund my <order> & {{now}}"],
    ]);
    expect(classify.id).toBe("classify@2");
  });

  it("sends exactly those messages to a model", async () => {
    const model = scriptedModel().reply("bug");
    const answer = await classify.template.pipe(model).invoke({ kind: "tickets", labels: "bug, other", ticket: "Error 500 on save" });
    expect(answer.text).toBe("bug");
    expect(model.requests[0]!.map((message) => message.role)).toEqual(["system", "user", "assistant", "user", "assistant", "user", "assistant", "user"]);
    expect(model.requests[0]!.at(-1)!.content).toBe("Ticket: Error 500 on save");
    const [, , , , , , , prioritised] = await classify.format({ kind: "tickets", labels: "bug", ticket: "Down", priority: 1 });
    expect(prioritised!.text).toBe("Ticket: Down (priority 1)");
  });

  it("names missing and ill-typed variables, and what it expected", async () => {
    const failure = await classify.format({ kind: "tickets", ticket: 42, priority: 1.5 } as never).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PromptVariablesError);
    const error = failure as PromptVariablesError;
    expect(error.code).toBe("PROMPT_VARIABLES_INVALID");
    expect(error.message).toContain('missing "labels" (expected string)');
    expect(error.message).toMatch(/"ticket": Invalid input: expected string, received number/);
    expect(error.message).toMatch(/"priority": .*int/i);
    expect(error.message).toContain("It expects { kind: string, labels: string, ticket: string, priority?: integer }");
    await expect(classify.format({ kind: "tickets", labels: "x", ticket: "" })).rejects.toThrow(/"ticket": Too small/);
  });

  it("refuses templates and schemas that disagree, and examples with bad variables", () => {
    expect(() => definePrompt({ template: "Hi {{name}} from {{city}}", variables: z.object({ name: z.string() }) })).toThrow(/uses \{\{city\}\} but its variables schema does not declare it/);
    expect(() => definePrompt({ template: "Hi {{name}}", variables: z.object({ name: z.string(), nmae: z.string() }) })).toThrow(/declares nmae but no template uses it/);
    expect(() => definePrompt({ template: "Hi {{name}}", variables: z.object({ name: z.string() }), examples: [{ input: { name: 3 } as never, output: "x" }] })).toThrow(/Example 1 .* invalid variables/);
    expect(() => definePrompt({ template: "", variables: z.object({}) })).toThrow(DefinitionError);
    expect(() => definePrompt({ template: "x", variables: { name: "string" } as never })).toThrow(/must be a zod object/);
  });

  it("renders list sections, whose item fields need not be top-level variables", async () => {
    const digest = definePrompt({ template: "Summarise:{{#items}}\n- {{title}}{{/items}}", variables: z.object({ items: z.array(z.object({ title: z.string() })).min(1) }) });
    const [message] = await digest.format({ items: [{ title: "one" }, { title: "two" }] });
    expect(message!.text).toBe("Summarise:\n- one\n- two");
    await expect(digest.format({ items: [] })).rejects.toThrow(PromptVariablesError);
  });
});
