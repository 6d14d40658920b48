/**
 * Conclave's overhead over raw LangGraph: the same compiled graphs, invoked raw and through
 * `run()`, alternating so drift in machine load hits both equally. Prints per-step times and the
 * ratio; the target is at most 5% added. A benchmark, not a test: it reports, it does not assert.
 */
import { HumanMessage } from "@langchain/core/messages";
import { END, START, StateGraph, StateSchema } from "@langchain/langgraph";
import { z } from "zod";
import { RunEvents, createAgentGraph, defineAgent, defineTool, run } from "../../src/index.ts";
import { scriptedModel } from "../../src/testing/index.ts";

process.env.LANGSMITH_TRACING = "false";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 400);
const WARMUP = 50;

function chainGraph(length: number) {
  const State = new StateSchema({ count: z.number().default(0) });
  let builder = new StateGraph(State) as unknown as StateGraph<typeof State>;
  for (let index = 0; index < length; index++) builder = builder.addNode(`n${index}`, (state: typeof State.State) => ({ count: state.count + 1 })) as never;
  builder = builder.addEdge(START, "n0" as never) as never;
  for (let index = 1; index < length; index++) builder = builder.addEdge(`n${index - 1}` as never, `n${index}` as never) as never;
  return builder.addEdge(`n${length - 1}` as never, END).compile();
}

interface Case {
  name: string;
  /** LangGraph supersteps per invocation. */
  steps: number;
  raw: () => Promise<unknown>;
  conclave: () => Promise<unknown>;
  /** The same with a listener on every event, as the CLI's progress output has. */
  listened: () => Promise<unknown>;
}

const listened = new RunEvents();
listened.on("event", () => undefined);

function chainCase(): Case {
  const graph = chainGraph(10);
  return {
    name: "10-node chain",
    steps: 10,
    raw: () => graph.invoke({ count: 0 }, { recursionLimit: 25 }),
    conclave: () => run(graph, { count: 0 }, { stepLimit: 25 }),
    listened: () => run(graph, { count: 0 }, { stepLimit: 25, events: listened }),
  };
}

function reactCase(): Case {
  const echo = defineTool({ name: "echo", description: "Echoes text.", schema: z.object({ text: z.string() }), run: ({ text }) => text });
  const graph = createAgentGraph(defineAgent({ name: "bench", instructions: "Use echo once, then answer.", tools: [echo], maxSteps: 4 }));
  const model = scriptedModel();
  // Each invocation consumes one tool call and one answer: model → tools → model.
  const script = () => model.callTools([{ name: "echo", args: { text: "hi" } }]).reply("done");
  const input = () => ({ messages: [new HumanMessage("echo hi")] });
  return {
    name: "ReAct agent (scripted model, trivial tool)",
    steps: 3,
    raw: () => (script(), graph.invoke(input(), { context: { model }, recursionLimit: 11 })),
    conclave: () => (script(), run(graph, input(), { model })),
    listened: () => (script(), run(graph, input(), { model, events: listened })),
  };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

const median = (values: number[]) => quantile(values, 0.5);
/** The middle half of the runs, so a reader can see how much of a difference is noise. */
const spread = (values: number[]) => `p25–p75 ${quantile(values, 0.25).toFixed(3)}–${quantile(values, 0.75).toFixed(3)}`;

async function measure(benchCase: Case): Promise<void> {
  for (let index = 0; index < WARMUP; index++) {
    await benchCase.raw();
    await benchCase.conclave();
  }
  const raw: number[] = [];
  const conclave: number[] = [];
  const withListener: number[] = [];
  for (let index = 0; index < ROUNDS; index++) {
    // Alternate the order too, so neither side always runs on a warmer cache.
    if (index % 2 === 0) {
      raw.push(await time(benchCase.raw));
      conclave.push(await time(benchCase.conclave));
    } else {
      conclave.push(await time(benchCase.conclave));
      raw.push(await time(benchCase.raw));
    }
    withListener.push(await time(benchCase.listened));
  }
  const rawMedian = median(raw);
  const conclaveMedian = median(conclave);
  const perStepRaw = rawMedian / benchCase.steps;
  const perStepAdded = (conclaveMedian - rawMedian) / benchCase.steps;
  const ratio = conclaveMedian / rawMedian;
  console.log(`${benchCase.name}: ${ROUNDS} runs each, median`);
  console.log(`  raw LangGraph   ${rawMedian.toFixed(3)} ms/run  (${perStepRaw.toFixed(3)} ms/step; ${spread(raw)})`);
  console.log(`  Conclave run()  ${conclaveMedian.toFixed(3)} ms/run  (+${perStepAdded.toFixed(3)} ms/step; ${spread(conclave)})`);
  const listenedMedian = median(withListener);
  console.log(`  + a listener    ${listenedMedian.toFixed(3)} ms/run  (+${((listenedMedian - rawMedian) / benchCase.steps).toFixed(3)} ms/step, ratio ${(listenedMedian / rawMedian).toFixed(3)}; every event built and delivered)`);
  console.log(`  ratio ${ratio.toFixed(3)} → ${((ratio - 1) * 100).toFixed(1)}% added (target ≤ 5%) ${ratio <= 1.05 ? "OK" : "OVER TARGET"}`);
}

console.log(`node ${process.version}, ${ROUNDS} alternating rounds after ${WARMUP} warm-up rounds`);
await measure(chainCase());
await measure(reactCase());
