import { HumanMessage } from "@langchain/core/messages";
import { createAgentGraph, defineAgent, defineTool, run } from "conclave";
import { z } from "zod";

const capitals: Record<string, string> = { france: "Paris", japan: "Tokyo", kenya: "Nairobi" };

const lookupCapital = defineTool({
  name: "lookup_capital",
  description: "Looks up the capital city of a country.",
  schema: z.object({ country: z.string().describe("The country, e.g. Japan") }),
  run: ({ country }) => {
    const key = Object.keys(capitals).find((name) => country.toLowerCase().includes(name));
    return key ? `[capitals] The capital of ${country.match(new RegExp(key, "i"))?.[0]} is ${capitals[key]}.` : `No capital known for ${country}.`;
  },
});

const geographer = defineAgent({ name: "geographer", instructions: "Answer with lookup_capital; cite [capitals].", tools: [lookupCapital], maxSteps: 4 });

const { state, model, usage } = await run(createAgentGraph(geographer), { messages: [new HumanMessage("What is the capital of Japan?")] });
console.log(state.messages.at(-1)?.text, `— ${model.name}${model.offline ? " (offline)" : ""}, ${usage.modelCalls} model calls`);
