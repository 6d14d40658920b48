import { describe, expect, it } from "vitest";
import { MemoryReplayCache } from "./replay.ts";
import { signWebhook } from "./sign.ts";
import { verifyWebhook, WebhookVerificationError, type WebhookRejection } from "./verify.ts";

const SECRET = "whsec_" + Buffer.alloc(32, 7).toString("base64");
const OLD_SECRET = "an-old-secret-of-plenty-of-bytes";
const NOW_MS = 1_700_000_000_000;
const NOW_SEC = NOW_MS / 1_000;
const body = JSON.stringify({ type: "run-end", runId: "r1" });

function request(overrides: { id?: string; timestamp?: number; secret?: string; signatures?: string } = {}) {
  const id = overrides.id ?? "msg_1";
  const timestamp = overrides.timestamp ?? NOW_SEC;
  return { id, timestamp: String(timestamp), body, signatures: overrides.signatures ?? signWebhook({ id, timestamp, body }, overrides.secret ?? SECRET) };
}

function options(secrets = [SECRET], replayCache = new MemoryReplayCache({ now: () => NOW_MS })) {
  return { secrets, now: () => NOW_MS, replayCache };
}

async function caught(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(WebhookVerificationError);
  return error as WebhookVerificationError;
}

async function rejection(promise: Promise<unknown>): Promise<WebhookRejection> {
  return (await caught(promise)).reason;
}

describe("verifyWebhook", () => {
  it("accepts a valid signature once and returns the parsed payload", async () => {
    const verified = await verifyWebhook(request(), options());
    expect(verified).toEqual({ id: "msg_1", timestamp: NOW_SEC, body, payload: { type: "run-end", runId: "r1" } });
  });

  it("rejects a replayed id, even correctly signed", async () => {
    const opts = options();
    await verifyWebhook(request(), opts);
    expect(await rejection(verifyWebhook(request(), opts))).toBe("replay");
  });

  it("rejects a signature made with another secret", async () => {
    expect(await rejection(verifyWebhook(request({ secret: "someone-elses-secret-0123456789" }), options()))).toBe("signature");
  });

  it("rejects a body changed after signing", async () => {
    expect(await rejection(verifyWebhook({ ...request(), body: body.replace("r1", "r2") }, options()))).toBe("signature");
  });

  it("rejects a truncated signature", async () => {
    const full = request().signatures;
    const truncated = full.slice(0, "v1,".length + 24); // 18 of the 32 bytes, still valid base64
    const error = await caught(verifyWebhook(request({ signatures: truncated }), options()));
    expect(error.reason).toBe("signature");
    expect(error.message).toMatch(/wrong length/);
  });

  it("rejects a stale timestamp and a future one", async () => {
    expect(await rejection(verifyWebhook(request({ timestamp: NOW_SEC - 301 }), options()))).toBe("timestamp-stale");
    expect(await rejection(verifyWebhook(request({ timestamp: NOW_SEC + 301 }), options()))).toBe("timestamp-future");
    await expect(verifyWebhook(request({ id: "msg_edge", timestamp: NOW_SEC - 300 }), options())).resolves.toMatchObject({ id: "msg_edge" });
  });

  it("rejects a secret shorter than 24 bytes as configuration, before looking at the request", async () => {
    const error = await caught(verifyWebhook(request(), options(["short-secret"])));
    expect(error.reason).toBe("secret-too-short");
    expect(error.details).toMatchObject({ bytes: 12, minimum: 24 });
    expect(await rejection(verifyWebhook(request(), options([])))).toBe("secret-too-short");
    expect(() => signWebhook({ id: "x", timestamp: 1, body: "" }, "whsec_" + Buffer.alloc(16).toString("base64"))).toThrow(WebhookVerificationError);
  });

  it("rejects malformed headers and bodies", async () => {
    expect(await rejection(verifyWebhook({ ...request(), id: undefined }, options()))).toBe("malformed");
    expect(await rejection(verifyWebhook({ ...request(), timestamp: "soon" }, options()))).toBe("malformed");
    expect(await rejection(verifyWebhook({ ...request(), signatures: "" }, options()))).toBe("malformed");
    expect(await rejection(verifyWebhook({ ...request(), signatures: "v2,abc" }, options()))).toBe("malformed");
    expect(await rejection(verifyWebhook({ ...request(), signatures: "v1,not base64!" }, options()))).toBe("malformed");
    const notJson = { id: "msg_text", timestamp: String(NOW_SEC), body: "plain", signatures: signWebhook({ id: "msg_text", timestamp: NOW_SEC, body: "plain" }, SECRET) };
    expect(await rejection(verifyWebhook(notJson, options()))).toBe("malformed");
  });

  it("accepts old and new secrets during a rotation, and several signature entries", async () => {
    const rotating = options([SECRET, OLD_SECRET]);
    await expect(verifyWebhook(request({ id: "msg_new", secret: SECRET }), rotating)).resolves.toMatchObject({ id: "msg_new" });
    await expect(verifyWebhook(request({ id: "msg_old", secret: OLD_SECRET }), rotating)).resolves.toMatchObject({ id: "msg_old" });
    const old = request({ id: "msg_both", secret: OLD_SECRET }).signatures;
    const bad = request({ id: "msg_both", secret: "someone-elses-secret-0123456789" }).signatures;
    await expect(verifyWebhook({ ...request({ id: "msg_both" }), signatures: `v1a,ignored ${bad} ${old}` }, options([SECRET]))).rejects.toThrow(/No webhook signature matches/);
    await expect(verifyWebhook({ ...request({ id: "msg_both" }), signatures: `${bad} ${old}` }, rotating)).resolves.toMatchObject({ id: "msg_both" });
    // Once rotation ends, the old secret no longer verifies.
    expect(await rejection(verifyWebhook(request({ id: "msg_late", secret: OLD_SECRET }), options([SECRET])))).toBe("signature");
  });

  it("does not remember ids of rejected requests, so a forgery cannot block the real delivery", async () => {
    const opts = options();
    expect(await rejection(verifyWebhook(request({ secret: "someone-elses-secret-0123456789" }), opts))).toBe("signature");
    await expect(verifyWebhook(request(), opts)).resolves.toMatchObject({ id: "msg_1" });
  });
});

describe("MemoryReplayCache", () => {
  it("forgets ids after their ttl", async () => {
    let now = 0;
    const cache = new MemoryReplayCache({ now: () => now });
    expect(await cache.remember("a", 1_000)).toBe(true);
    expect(await cache.remember("a", 1_000)).toBe(false);
    expect(await cache.seen("a")).toBe(true);
    now = 1_000;
    expect(await cache.seen("a")).toBe(false);
    expect(await cache.remember("b", 1_000)).toBe(true);
    expect(cache.size).toBe(1); // "a" was swept
  });
});
