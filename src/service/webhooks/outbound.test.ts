import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DeadLetterQueue } from "../../resilience/dead-letters.ts";
import { createNotifier } from "./outbound.ts";
import { MemoryReplayCache } from "./replay.ts";
import { verifyWebhook, type VerifiedWebhook } from "./verify.ts";

const SECRET = "whsec_" + Buffer.alloc(32, 3).toString("base64");
const folder = mkdtempSync(join(tmpdir(), "conclave-webhooks-"));
const queues: DeadLetterQueue[] = [];

/** A receiver on 127.0.0.1 that answers each request with the next scripted status (the last repeats). */
interface Receiver {
  url: string;
  requests: IncomingMessage[];
  verified: VerifiedWebhook[];
  close(): Promise<void>;
}

async function receiver(script: Array<{ status: number; headers?: Record<string, string> }>): Promise<Receiver> {
  const requests: IncomingMessage[] = [];
  const verified: VerifiedWebhook[] = [];
  const replayCache = new MemoryReplayCache();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push(req);
      const step = script[Math.min(requests.length, script.length) - 1] ?? { status: 200 };
      const header = (name: string) => req.headers[name] as string | undefined;
      const check = step.status === 200 ? verifyWebhook({ id: header("webhook-id"), timestamp: header("webhook-timestamp"), body: Buffer.concat(chunks).toString("utf8"), signatures: header("webhook-signature") }, { secrets: [SECRET], replayCache }) : Promise.resolve(undefined);
      check.then(
        (event) => {
          if (event) verified.push(event);
          res.writeHead(step.status, step.headers).end();
        },
        () => res.writeHead(401).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no address");
  return { url: `http://127.0.0.1:${address.port}/hook`, requests, verified, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let open: Receiver[] = [];
afterEach(async () => {
  await Promise.all(open.map((r) => r.close()));
  open = [];
});
afterAll(() => {
  for (const queue of queues) queue.close();
  rmSync(folder, { recursive: true, force: true });
});

function dlq(name: string): DeadLetterQueue {
  const queue = new DeadLetterQueue({ path: join(folder, `${name}.sqlite`) });
  queues.push(queue);
  return queue;
}

async function start(script: Parameters<typeof receiver>[0]): Promise<Receiver> {
  const r = await receiver(script);
  open.push(r);
  return r;
}

describe("createNotifier", () => {
  let delays: number[] = [];
  const sleep = async (ms: number) => void delays.push(ms);
  afterEach(() => void (delays = []));

  it("retries 500 twice, then delivers a signature the receiver verifies", async () => {
    const target = await start([{ status: 500 }, { status: 500 }, { status: 200 }]);
    const notifier = createNotifier({ secret: SECRET, baseDelayMs: 100, sleep, random: () => 0.5 });
    const result = await notifier.notify(target.url, { type: "run-end", runId: "r1" });
    expect(result).toMatchObject({ delivered: true, attempts: 3, status: 200 });
    expect(target.requests).toHaveLength(3);
    expect(target.verified).toEqual([expect.objectContaining({ id: result.id, payload: { type: "run-end", runId: "r1" } })]);
    // The same webhook-id on every attempt, so a receiver can drop duplicates.
    expect(new Set(target.requests.map((req) => req.headers["webhook-id"]))).toEqual(new Set([result.id]));
    expect(target.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(delays).toEqual([75, 150]); // equal jitter around 100 · 2^n
  });

  it("honours Retry-After on 429", async () => {
    const target = await start([{ status: 429, headers: { "retry-after": "2" } }, { status: 200 }]);
    const result = await createNotifier({ secret: SECRET, baseDelayMs: 10, sleep }).notify(target.url, { n: 1 });
    expect(result).toMatchObject({ delivered: true, attempts: 2 });
    expect(delays).toEqual([2_000]);
  });

  it("gives up at once on a permanent 400 and keeps a dead letter", async () => {
    const target = await start([{ status: 400 }]);
    const deadLetters = dlq("permanent");
    const result = await createNotifier({ secret: SECRET, sleep, deadLetters }).notify(target.url, { type: "run-end" });
    expect(result).toMatchObject({ delivered: false, attempts: 1, status: 400 });
    expect(target.requests).toHaveLength(1);
    expect(delays).toEqual([]);
    const letters = deadLetters.list("dead");
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ id: result.deadLetterId, kind: "batch-item", graph: "webhook", input: { type: "run-end" }, options: { webhook: target.url, webhookId: result.id }, attempts: 1, traceId: result.id, error: { code: "WEBHOOK_HTTP_400" } });
  });

  it("keeps a dead letter in SQLite after exhausting its attempts", async () => {
    const target = await start([{ status: 503 }]);
    const path = join(folder, "exhausted.sqlite");
    const deadLetters = dlq("exhausted");
    const result = await createNotifier({ secret: SECRET, maxAttempts: 3, baseDelayMs: 1, deadLetters }).notify(target.url, { type: "run-end", runId: "r9" });
    expect(result).toMatchObject({ delivered: false, attempts: 3, status: 503 });
    expect(target.requests).toHaveLength(3);
    // Read back through a second connection: the letter is on disk, not only in memory.
    const reopened = new DeadLetterQueue({ path });
    queues.push(reopened);
    expect(reopened.list()).toEqual([expect.objectContaining({ kind: "batch-item", input: { type: "run-end", runId: "r9" }, attempts: 3, error: expect.objectContaining({ code: "WEBHOOK_HTTP_503" }) })]);
  });

  it("retries network errors and never rejects, even unawaited", async () => {
    const target = await start([{ status: 200 }]);
    await target.close();
    open = [];
    const deadLetters = dlq("network");
    const pending = createNotifier({ secret: SECRET, maxAttempts: 2, sleep, deadLetters }).notify(target.url, { n: 1 });
    const result = await pending;
    expect(result).toMatchObject({ delivered: false, attempts: 2 });
    expect(result.status).toBeUndefined();
    expect(deadLetters.list()[0]?.error.code).toBe("WEBHOOK_UNREACHABLE");
    // A fetch that throws synchronously and an event that cannot be serialised both resolve.
    const broken = createNotifier({ secret: SECRET, maxAttempts: 1, fetch: () => { throw new Error("boom"); } });
    await expect(broken.notify("http://127.0.0.1:1/", {})).resolves.toMatchObject({ delivered: false, error: expect.stringContaining("boom") });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(broken.notify("http://127.0.0.1:1/", circular)).resolves.toMatchObject({ delivered: false, attempts: 0 });
  });

  it("refuses a short secret when created", () => {
    expect(() => createNotifier({ secret: "too-short" })).toThrow(/at least 24/);
  });
});
