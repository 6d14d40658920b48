import { defineAgent, defineSuite, generated, numeric } from "conclave";
import { calculator } from "../../tools/index.ts";

/**
 * Du et al. (2023), "Improving Factuality and Reasoning in Language Models through Multiagent
 * Debate", arithmetic task: expressions a+b*c+d-e*f with integers in [0, 30), here 100 of them
 * from seed 0. The agent must use the calculator; the answer is the last number it states.
 */
export const ARITHMETIC_SEED = 0;

export function arithmeticSamples(count = 100, seed = ARITHMETIC_SEED) {
  return generated<string, number>({
    count,
    seed,
    make: (random, index) => {
      const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => Math.floor(random() * 30));
      const expression = `${a}+${b}*${c}+${d}-${e}*${f}`;
      return { id: `expr-${String(index + 1).padStart(3, "0")}`, input: `What is the result of ${expression}? Make sure to state your answer at the end of the response.`, expected: a! + b! * c! + d! - e! * f!, metadata: { negative: a! + b! * c! + d! - e! * f! < 0 } };
    },
  });
}

const solver = defineAgent({
  name: "arithmetic",
  instructions: "Compute the expression with the calculator tool, then state the result as a number at the end of your answer.",
  tools: [calculator],
  maxSteps: 4,
});

export const suite = defineSuite({
  name: "arithmetic-tools",
  description: "Du et al.'s arithmetic (a+b*c+d-e*f, integers in [0,30), 100 seeded expressions) through a ReAct agent with the calculator",
  dataset: () => arithmeticSamples(),
  task: solver,
  scorers: [numeric({ tolerance: 1e-9 })],
  thresholds: { numeric: 0.95 },
});
