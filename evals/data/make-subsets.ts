/**
 * Rebuilds the stored data files from the published originals:
 *
 *   npx tsx evals/data/make-subsets.ts FOLDER
 *
 * where FOLDER holds gsm8k-test.jsonl (1,319 rows), svamp.json (1,000) and strategyqa-dev.json
 * (229) as published (see README.md for where each comes from). Same originals, same files.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GSM8K_TEST_ROWS, gsm8kLines } from "../suites/gsm8k-debate.ts";
import { SVAMP_ROWS, svampIds } from "../suites/svamp.ts";

const source = process.argv[2];
if (!source) throw new Error("Usage: npx tsx evals/data/make-subsets.ts FOLDER (the folder with the original gsm8k-test.jsonl, svamp.json and strategyqa-dev.json)");
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const read = (file: string) => readFileSync(join(source, file), "utf8");

// GSM8K: Du et al.'s 100, the first after Python's random.seed(0); random.shuffle(rows) (see
// gsm8kLines), in that order, each with its line in test.jsonl.
const gsm8k = read("gsm8k-test.jsonl").split("\n").filter((line) => line.trim() !== "");
if (gsm8k.length !== GSM8K_TEST_ROWS) throw new Error(`Expected ${GSM8K_TEST_ROWS} GSM8K test rows, found ${gsm8k.length}.`);
const gsm8kRows = gsm8kLines().map((line) => {
  const { question, answer } = JSON.parse(gsm8k[line - 1]!) as { question: string; answer: string };
  return JSON.stringify({ line, question, answer });
});
writeFileSync(here("./gsm8k-test.jsonl"), `${gsm8kRows.join("\n")}\n`);

// SVAMP: the rows with the first 100 ids after the seed-0 shuffle, in that order, unchanged.
const svamp = JSON.parse(read("svamp.json")) as Array<{ ID: string }>;
if (svamp.length !== SVAMP_ROWS) throw new Error(`Expected ${SVAMP_ROWS} SVAMP rows, found ${svamp.length}.`);
const byId = new Map(svamp.map((row) => [row.ID, row]));
writeFileSync(here("./svamp.json"), `${JSON.stringify(svampIds().map((id) => byId.get(id)), null, 2)}\n`);

// StrategyQA: every dev row in file order, without `evidence` (Wikipedia paragraph ids, useless without that corpus).
const strategyqa = JSON.parse(read("strategyqa-dev.json")) as Array<Record<string, unknown>>;
writeFileSync(here("./strategyqa-dev.json"), `${JSON.stringify(strategyqa.map(({ evidence: _evidence, ...row }) => row), null, 2)}\n`);

console.log(`wrote ${gsm8kRows.length} GSM8K, ${svampIds().length} SVAMP and ${strategyqa.length} StrategyQA rows to ${here(".")}`);
