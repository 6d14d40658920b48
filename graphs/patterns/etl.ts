import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { HumanMessage } from "@langchain/core/messages";
import { DeadLetterQueue, compileGraph, createAgentGraph, createEtlGraph, defineAgent, defineGraph, rejectRecord } from "conclave";
import type { EtlContext, GraphBuildContext } from "conclave";
import { z } from "zod";

const HERE = dirname(fileURLToPath(import.meta.url));
const COLUMNS = ["id", "customer", "email", "rating", "comment"] as const;

/** A row as read from the CSV: every field still text. */
type Row = Record<(typeof COLUMNS)[number], string>;

/** What the warehouse stores. */
export interface Feedback {
  id: string;
  customer: string;
  email: string;
  rating: number;
  comment: string;
  /** The comment's main point, in one sentence, from the model. */
  summary: string;
}

const FeedbackSchema = z.object({
  id: z.string().regex(/^F-\d+$/),
  customer: z.string().min(1),
  email: z.email(),
  rating: z.number().int().min(1).max(5),
  comment: z.string().min(1),
  summary: z.string().min(1),
});

/** A path (against the working folder, then this example's folder) or the CSV text itself. */
function readSource(source: string | undefined, cwd: string): string {
  if (!source) throw new Error("no source given: pass a CSV path or the CSV text");
  if (source.includes("\n")) return source;
  const path = [resolve(cwd, source), resolve(HERE, source)].find((candidate) => existsSync(candidate));
  if (!path) throw new Error(`no file ${source} (looked in ${cwd} and ${HERE})`);
  return readFileSync(path, "utf8");
}

/** Rows of a simple CSV (no quoted commas): the last column keeps any commas it has. */
function* parseCsv(text: string): Generator<Row | ReturnType<typeof rejectRecord>> {
  const [header, ...lines] = text.split(/\r?\n/).filter((line) => line.trim());
  if (header?.split(",").join(",") !== COLUMNS.join(",")) throw new Error(`expected the header "${COLUMNS.join(",")}", got "${header ?? ""}"`);
  for (const line of lines) {
    const cells = line.split(",");
    if (cells.length < COLUMNS.length) {
      yield rejectRecord(line, `${cells.length} columns, expected ${COLUMNS.length} (${COLUMNS.join(", ")})`);
      continue;
    }
    const comment = cells.slice(COLUMNS.length - 1).join(",");
    yield Object.fromEntries(COLUMNS.map((column, index) => [column, (index === COLUMNS.length - 1 ? comment : cells[index]!).trim()])) as Row;
  }
}

// An agent, so each call takes the run's full model path: fallback models, cache, record/replay, breakers, budget.
const summariser = createAgentGraph(defineAgent({ name: "feedback-summariser", instructions: "Give the main point of the customer comment in one sentence.", tools: [], maxSteps: 1 }));

/** One model call per record, through the summariser agent with the node's config: the comment's main point. */
async function summarise(row: Row, context: EtlContext): Promise<string> {
  const { messages } = await summariser.invoke({ messages: [new HumanMessage(`What is the main point of this customer comment? Answer in one sentence.\n[${row.id}] ${row.comment}`)] }, context.config);
  const text = messages.at(-1)?.text ?? "";
  // The first sentence, without the citation marks the offline model adds.
  return (text.replace(/\s*\[[^\]]+\]/g, "").match(/[^.!?]+[.!?]/)?.[0] ?? text).trim();
}

/** Customer feedback CSV → normalised, summarised, validated records → a warehouse table (here, in memory). */
export function createFeedbackEtl(context: GraphBuildContext) {
  // Opened on the first bad record, so building the graph never creates files.
  let queue: DeadLetterQueue | undefined;
  const deadLetters = { add: (letter: Parameters<DeadLetterQueue["add"]>[0]) => (queue ??= new DeadLetterQueue({ path: resolve(context.cwd, context.config.stateDir, "dlq.sqlite") })).add(letter) };
  return createEtlGraph<Row, Feedback>({
    name: "feedback-etl",
    extract: (source) => parseCsv(readSource(source, context.cwd)),
    transform: async (row, stage) => {
      const rating = Number(row.rating);
      if (!Number.isInteger(rating)) throw new Error(`rating "${row.rating}" is not a whole number`);
      return { id: row.id, customer: row.customer, email: row.email.toLowerCase(), rating, comment: row.comment, summary: await summarise(row, stage) };
    },
    validate: FeedbackSchema,
    // A warehouse with a primary key: a second row with the same id is refused, as a database would.
    load: (records) => {
      const table = new Map<string, Feedback>();
      const rejected: Array<{ index: number; reason: string }> = [];
      for (const { index, record } of records) {
        if (table.has(record.id)) rejected.push({ index, reason: `duplicate key ${record.id}: already loaded from row ${records.find((entry) => entry.record.id === record.id)!.index + 1}` });
        else table.set(record.id, record);
      }
      return { rejected };
    },
    deadLetters,
  });
}

/** ETL for `conclave run --graph etl [CSV path]`: the sample is a small feedback export with four bad rows. */
export const example = defineGraph({
  name: "etl",
  description: "ETL: extract feedback rows from a CSV, summarise each with the model, validate, load; bad rows are reported with their stage and reason and kept in the dead-letter queue",
  sample: "samples/dataflow-records.csv",
  build: (context) => createFeedbackEtl(context),
  input: (task) => ({ source: task }),
  output: (state) => {
    const records = new Map(state.valid.map((entry) => [entry.index, entry.record as Feedback]));
    const loaded = state.loaded.map((index) => records.get(index)!);
    const failures = [...state.failures].sort((a, b) => a.index - b.index);
    const lines = [
      `Loaded ${loaded.length} of ${state.counts.extract?.in ?? 0} records:`,
      ...loaded.map((record) => `- ${record.id} (${record.rating}/5) ${record.summary}`),
      ...(["extract", "transform", "validate", "load"] as const).map((stage) => {
        const count = state.counts[stage];
        return `${stage.padEnd(9)} in ${count?.in ?? 0}, out ${count?.out ?? 0}, failed ${count?.failed ?? 0}`;
      }),
      ...(failures.length ? ["Bad records (kept in the dead-letter queue: conclave dlq list):"] : []),
      ...failures.map((failure) => `- row ${failure.index + 1} at ${failure.stage}: ${failure.reason}`),
    ];
    return { answer: lines.join("\n"), citations: [], details: { counts: state.counts, loaded: loaded.map((record) => record.id), failures: failures.map(({ index, stage, reason, code, deadLetterId }) => ({ row: index + 1, stage, reason, code, deadLetterId })) } };
  },
});

/** The compiled graph, for LangGraph's own tooling (`langgraph.json`). */
export const graph = compileGraph(example);
