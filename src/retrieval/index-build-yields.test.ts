import { describe, expect, it } from "vitest";
import { OfflineEmbeddings } from "../models/offline/embeddings.ts";
import { createPassageIndex } from "./passage-index.ts";

describe("building a passage index", () => {
  it("yields to the event loop while embedding and indexing, so timers (a worker's job-lock renewal) keep firing", async () => {
    const passages = Array.from({ length: 4_000 }, (_, index) => ({ id: `doc${index}#1`, documentId: `doc${index}`, title: `Document ${index}`, text: `Passage ${index} about topic ${index % 97} with words ${index * 7} and ${index * 13}.` }));
    let turns = 0;
    // setImmediate callbacks run only when the loop turns: a build that never yields would leave this at 0.
    let stop = false;
    const spin = () => {
      turns++;
      if (!stop) setImmediate(spin);
    };
    setImmediate(spin);
    const index = await createPassageIndex(passages, new OfflineEmbeddings());
    stop = true;
    expect(index.passages).toHaveLength(passages.length);
    expect((await index.search("Passage 1234 about topic 70", 1))[0]!.id).toBe("doc1234#1");
    // 4,000 passages in batches of 256: at least one turn per embedding batch and per indexing batch.
    expect(turns).toBeGreaterThanOrEqual(Math.floor(4_000 / 256) * 2 - 2);
  });
});
