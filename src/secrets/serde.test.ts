import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { RedactionError } from "./errors.ts";
import { REDACTED, Redactor } from "./redact.ts";
import { redactingSerializer } from "./serde.ts";

const CANARY = "sk-canary-0123456789abcdefghij";
const temps: string[] = [];

afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("redactingSerializer", () => {
  const serde = redactingSerializer(new JsonPlusSerializer(), new Redactor([CANARY]));

  it("masks secrets anywhere in JSON output and loads it back", async () => {
    const [type, bytes] = await serde.dumpsTyped({ note: `a ${CANARY} b ${CANARY}`, nested: [{ deep: CANARY }], when: new Set([CANARY]) });
    expect(type).toBe("json");
    expect(Buffer.from(bytes).toString("utf8")).not.toContain(CANARY);
    const loaded = (await serde.loadsTyped(type, bytes)) as { note: string; nested: Array<{ deep: string }>; when: Set<string> };
    expect(loaded.note).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(loaded.nested[0]?.deep).toBe(REDACTED);
    expect(loaded.when).toEqual(new Set([REDACTED]));
  });

  it("passes output without secrets, and binary output, through unchanged", async () => {
    const inner = new JsonPlusSerializer();
    const plain = { a: 1, b: "text" };
    expect(await serde.dumpsTyped(plain)).toEqual(await inner.dumpsTyped(plain));
    const binary = new Uint8Array([0xff, 0x00, 0x01]);
    expect(await serde.dumpsTyped(binary)).toEqual(["bytes", binary]);
  });

  it("refuses to write a secret it cannot mask without corrupting the JSON", async () => {
    const numeric = redactingSerializer(new JsonPlusSerializer(), new Redactor(["12345678901"]));
    await expect(numeric.dumpsTyped({ count: 12345678901 })).rejects.toBeInstanceOf(RedactionError);
  });
});

describe("redactingSerializer with a SqliteSaver", () => {
  const State = Annotation.Root({
    notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    detail: Annotation<Record<string, unknown>>(),
  });

  function build(saver: SqliteSaver) {
    return new StateGraph(State)
      .addNode("leak", () => ({ notes: [`called the API with ${CANARY}`], detail: { headers: { authorization: `Bearer ${CANARY}` }, list: [CANARY, CANARY] } }))
      .addNode("finish", () => ({ notes: ["done"] }))
      .addEdge(START, "leak")
      .addEdge("leak", "finish")
      .addEdge("finish", END)
      .compile({ checkpointer: saver, interruptBefore: ["finish"] });
  }

  /** The raw bytes of the database and its WAL, as text. */
  function rawBytes(file: string): string {
    return [file, `${file}-wal`].filter((name) => fs.existsSync(name)).map((name) => fs.readFileSync(name).toString("latin1")).join("");
  }

  it("keeps the canary out of the database file and still resumes from it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "conclave-serde-"));
    temps.push(dir);
    const file = path.join(dir, "checkpoints.sqlite");
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    const saver = new SqliteSaver(db, redactingSerializer(new JsonPlusSerializer(), new Redactor([CANARY])));
    const graph = build(saver);
    const config = { configurable: { thread_id: "t-1" } };

    const paused = await graph.invoke({ notes: ["start"] }, config);
    expect(paused.notes).toEqual(["start", `called the API with ${CANARY}`]);
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    expect(rawBytes(file)).toContain("checkpoints");
    expect(rawBytes(file)).not.toContain(CANARY);
    expect(rawBytes(file)).not.toContain("canary-0123456789");

    const state = await graph.getState(config);
    expect(state.next).toEqual(["finish"]);
    expect(state.values.notes).toEqual(["start", `called the API with ${REDACTED}`]);
    expect(state.values.detail).toEqual({ headers: { authorization: `Bearer ${REDACTED}` }, list: [REDACTED, REDACTED] });

    const finished = await graph.invoke(null, config);
    expect(finished.notes).toEqual(["start", `called the API with ${REDACTED}`, "done"]);
    expect(rawBytes(file)).not.toContain(CANARY);
    db.close();
    expect(rawBytes(file)).not.toContain(CANARY);

    // A fresh connection reads the finished thread.
    const reopened = new Database(file);
    const again = await build(new SqliteSaver(reopened)).getState(config);
    expect(again.values.notes).toEqual(["start", `called the API with ${REDACTED}`, "done"]);
    expect(again.next).toEqual([]);
    reopened.close();
  });
});
