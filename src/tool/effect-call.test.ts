import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { idempotencyKey, MemoryEffectLedger } from "../persistence/effects.ts";
import type { EffectLedger, EffectRecord } from "../persistence/effects.ts";
import { withEffectLedger } from "./effect-call.ts";

/** A ledger that answers every call a tick later, as a remote store (PostgreSQL) does, and logs the calls. */
class SlowLedger implements EffectLedger {
  readonly calls: string[] = [];
  failComplete = false;
  private readonly inner = new MemoryEffectLedger();

  async get(key: string): Promise<EffectRecord | undefined> {
    await tick();
    this.calls.push("get");
    return this.inner.get(key);
  }
  async begin(key: string, tool: string): Promise<EffectRecord> {
    await tick();
    this.calls.push("begin");
    return this.inner.begin(key, tool);
  }
  async complete(key: string, output: string): Promise<void> {
    await tick();
    if (this.failComplete) throw new Error("connection lost");
    this.calls.push("complete");
    this.inner.complete(key, output);
  }
  async forget(key: string): Promise<void> {
    await tick();
    this.calls.push("forget");
    this.inner.forget(key);
  }
}

const tick = () => new Promise((done) => setTimeout(done, 1));
const config = (effects: EffectLedger) => ({ context: { effects, threadId: "t" }, metadata: { langgraph_checkpoint_ns: "tools:1", conclave_tool_call_index: 0 } }) as unknown as LangGraphRunnableConfig;

/** A body as `defineTool` runs one: begin right before the effect, or answer from the ledger. */
const call = (ledger: EffectLedger, apply: (retry: boolean) => Promise<string>) =>
  withEffectLedger("pay", true, {}, config(ledger), async (effect) => {
    if (effect.completed !== undefined) {
      await effect.begin();
      return effect.completed;
    }
    const begun = await effect.begin();
    return apply(begun.isRetryAfterCrash === true);
  });

describe("withEffectLedger with a ledger that answers asynchronously", () => {
  it("awaits each step in order, and answers a completed call from the ledger without running it", async () => {
    const ledger = new SlowLedger();
    let applied = 0;
    expect(await call(ledger, async () => `paid ${++applied}`)).toBe("paid 1");
    expect(ledger.calls).toEqual(["get", "begin", "complete"]);
    expect(await call(ledger, async () => `paid ${++applied}`)).toBe("paid 1");
    expect(applied).toBe(1);
  });

  it("runs a call begun but not completed again, told it is a retry after a crash", async () => {
    const ledger = new SlowLedger();
    await ledger.begin(idempotencyKey({ threadId: "t", path: "tools:1", callIndex: 0, tool: "pay" }), "pay"); // the first process began it and died
    expect(await call(ledger, async (retry) => (retry ? "retried" : "fresh"))).toBe("retried");
  });

  it("forgets a call that threw, so its rerun is not taken for a retry", async () => {
    const ledger = new SlowLedger();
    await expect(call(ledger, async () => Promise.reject(new Error("remote said no")))).rejects.toThrow("remote said no");
    expect(ledger.calls).toEqual(["get", "begin", "forget"]);
    expect(await call(ledger, async (retry) => (retry ? "retried" : "fresh"))).toBe("fresh");
  });

  it("keeps a call whose completion could not be recorded as begun: the effect was applied, so a rerun is a retry", async () => {
    const ledger = new SlowLedger();
    ledger.failComplete = true;
    await expect(call(ledger, async () => "paid")).rejects.toThrow("connection lost");
    expect(ledger.calls).toEqual(["get", "begin"]);
    ledger.failComplete = false;
    expect(await call(ledger, async (retry) => (retry ? "retried" : "fresh"))).toBe("retried");
  });
});
