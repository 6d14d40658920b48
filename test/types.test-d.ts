// Compile-time checks of the public API's inference (checked by `npm run typecheck`, not run).
import type { BaseMessage } from "@langchain/core/messages";
import { expectTypeOf } from "vitest";
import { z } from "zod";
import { createAgentGraph, defineAgent, defineTool, resume, run } from "../src/index.ts";
import type { GraphInput } from "../src/index.ts";

const add = defineTool({
  name: "add",
  description: "Adds.",
  schema: z.object({ a: z.number(), b: z.number().default(1) }),
  run: (args) => {
    expectTypeOf(args).toEqualTypeOf<{ a: number; b: number }>();
    return String(args.a + args.b);
  },
});

const Answer = z.object({ total: z.number(), why: z.string() });
const structured = defineAgent({ name: "s", instructions: "x", tools: [add], outputSchema: Answer, maxSteps: 2 });
const plain = defineAgent({ name: "p", instructions: "x", tools: [add], maxSteps: 2 });

async function inference() {
  const graph = createAgentGraph(structured);
  const result = await run(graph, { messages: [] });
  expectTypeOf(result.usage.modelCalls).toEqualTypeOf<number>();
  expectTypeOf(result.state.messages).toEqualTypeOf<BaseMessage[]>();
  expectTypeOf(result.state.steps).toEqualTypeOf<number>();
  expectTypeOf(result.state.structuredResponse).toEqualTypeOf<{ total: number; why: string } | undefined>();

  const plainResult = await run(createAgentGraph(plain), { messages: [] });
  expectTypeOf(plainResult.state.structuredResponse).toEqualTypeOf<undefined>();

  expectTypeOf<GraphInput<typeof graph>>().toHaveProperty("messages");
  // @ts-expect-error a graph's input is checked against its state
  await run(graph, { nonsense: true });

  // A resumed run carries the same state type; decisions are checked.
  const resumed = await resume(graph, { threadId: "t", decisions: { decision: "edit", edit: { to: "x" } } });
  expectTypeOf(resumed.state.structuredResponse).toEqualTypeOf<{ total: number; why: string } | undefined>();
  expectTypeOf(resumed.status).toEqualTypeOf<"done" | "interrupted">();
  expectTypeOf(resumed.pending[0]!.request.kind).toEqualTypeOf<"tool" | "answer">();
  // @ts-expect-error a decision is approve, edit or reject
  await resume(graph, { threadId: "t", decisions: { decision: "maybe" } });

  // A tool's run context carries its idempotency key, and requiresApproval may look at the arguments.
  defineTool({
    name: "pay",
    description: "Pays.",
    schema: z.object({ cents: z.number() }),
    sideEffects: true,
    requiresApproval: (args) => {
      expectTypeOf(args).toEqualTypeOf<{ cents: number }>();
      return args.cents > 10_000;
    },
    run: (_args, context) => {
      expectTypeOf(context.idempotencyKey).toEqualTypeOf<string | undefined>();
      return "paid";
    },
  });
}
void inference;
