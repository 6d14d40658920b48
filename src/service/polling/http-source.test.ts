import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startPoller, type PolledItem, type PollerOptions, type PollLogEntry } from "./poller.ts";
import { MemoryPollStateStore } from "./state.ts";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

interface Feed {
  url: string;
  /** Every request's path and query, in order. */
  requests: string[];
  items: Array<Record<string, unknown>>;
  /** "ok" answers from `items`; the others break the answer. */
  mode: "ok" | "500" | "bad-json" | "hang";
  /** Wraps the page, e.g. to add a next cursor; default `{ items: page }`. */
  shape: (page: Array<Record<string, unknown>>, since: string | null) => unknown;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A feed on 127.0.0.1 answering the items whose numeric id is above `?since=`. */
async function feed(): Promise<Feed> {
  const state: Feed = { url: "", requests: [], items: [], mode: "ok", shape: (page) => ({ items: page }) };
  const server = createServer((request, response) => {
    state.requests.push(request.url ?? "");
    if (state.mode === "hang") return;
    if (state.mode === "500") return void response.writeHead(500, { "content-type": "text/plain" }).end("database is down");
    if (state.mode === "bad-json") return void response.writeHead(200, { "content-type": "application/json" }).end("<html>oops</html>");
    const since = new URL(request.url ?? "/", "http://x").searchParams.get("since");
    const page = state.items.filter((item) => since === null || Number(item["id"]) > Number(since));
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state.shape(page, since)));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
  return state;
}

function watch(source: Record<string, unknown>) {
  const submitted: PolledItem[] = [];
  const logs: PollLogEntry[] = [];
  const control = { failIds: new Set<string>() };
  const state = new MemoryPollStateStore();
  const instance = startPoller({
    source: { type: "http-json", name: "feed", ...source } as PollerOptions["source"],
    state,
    schedule: false,
    log: (entry) => logs.push(entry),
    submit: async (item) => {
      if (control.failIds.has(item.itemId)) throw new Error("queue unavailable");
      submitted.push(item);
    },
  });
  return { poller: instance, submitted, logs, control, state };
}

describe("http-json poll source", () => {
  it("sends the last cursor and submits only new items", async () => {
    const server = await feed();
    server.items = [
      { id: 1, text: "one" },
      { id: 2, text: "two" },
    ];
    const { poller, submitted, state } = watch({ url: server.url, cursorParam: "since" });

    expect(await poller.pollOnce()).toMatchObject({ fetched: 2, submitted: 2, failed: 0 });
    // The first page moved the cursor to the largest id, so the poll asked again from there (empty).
    expect(server.requests).toEqual(["/feed", "/feed?since=2"]);
    expect(submitted).toEqual([
      { source: "feed", itemId: "1", hash: sha256("one"), input: "one", idempotencyKey: `poll:feed:1:${sha256("one")}` },
      { source: "feed", itemId: "2", hash: sha256("two"), input: "two", idempotencyKey: `poll:feed:2:${sha256("two")}` },
    ]);
    expect((await state.load("feed")).cursor).toBe("2");

    server.items.push({ id: 3, text: "three" });
    server.requests.length = 0;
    expect(await poller.pollOnce()).toMatchObject({ fetched: 1, submitted: 1 });
    expect(server.requests).toEqual(["/feed?since=2", "/feed?since=3"]);
    expect(submitted.map((item) => item.itemId)).toEqual(["1", "2", "3"]);
  });

  it("takes the next cursor from cursorField when the feed gives one", async () => {
    const server = await feed();
    server.items = [{ id: 5, text: "five" }];
    server.shape = (page) => ({ items: page, next: page.length > 0 ? "5" : null });
    const { poller } = watch({ url: server.url, cursorParam: "since", cursorField: "next" });
    await poller.pollOnce();
    await poller.pollOnce();
    // null at the end of the feed keeps the cursor instead of starting over.
    expect(server.requests).toEqual(["/feed", "/feed?since=5", "/feed?since=5"]);
  });

  it("holds the cursor while an item's submit fails, so the item is not skipped", async () => {
    const server = await feed();
    server.items = [
      { id: 1, text: "one" },
      { id: 2, text: "two" },
    ];
    const { poller, submitted, control, state } = watch({ url: server.url, cursorParam: "since" });
    control.failIds.add("2");
    expect(await poller.pollOnce()).toMatchObject({ submitted: 1, failed: 1 });
    expect((await state.load("feed")).cursor).toBeUndefined();

    control.failIds.clear();
    expect(await poller.pollOnce()).toMatchObject({ submitted: 1, unchanged: 1, failed: 0 });
    expect(submitted.map((item) => item.itemId)).toEqual(["1", "2"]);
    expect((await state.load("feed")).cursor).toBe("2");
  });

  it("reports a 500 and invalid JSON with the reason, then recovers on the next poll", async () => {
    const server = await feed();
    server.items = [{ id: 1, text: "one" }];
    const { poller, submitted, logs } = watch({ url: `${server.url}?token=secret`, cursorParam: "since" });

    server.mode = "500";
    const failed = await poller.pollOnce();
    expect(failed.error).toBe(`Poll source "feed": ${server.url} answered HTTP 500 Internal Server Error: database is down`);
    expect(failed.submitted).toBe(0);
    expect(logs).toContainEqual(expect.objectContaining({ level: "error", message: `poll failed: ${failed.error}` }));
    expect(JSON.stringify(logs.map((entry) => entry.message))).not.toContain("secret");

    server.mode = "bad-json";
    expect((await poller.pollOnce()).error).toMatch(/answered invalid JSON \(.*\), starting: <html>oops<\/html>$/);

    server.mode = "ok";
    const recovered = await poller.pollOnce();
    expect(recovered.error).toBeUndefined();
    expect(submitted.map((item) => item.itemId)).toEqual(["1"]);
    expect(server.requests.at(-2)).toBe("/feed?token=secret");
  });

  it("gives up on a silent server after timeoutMs", async () => {
    const server = await feed();
    server.mode = "hang";
    const { poller } = watch({ url: server.url, timeoutMs: 150 });
    const started = Date.now();
    expect((await poller.pollOnce()).error).toBe(`Poll source "feed": ${server.url} did not answer within 150 ms; check the endpoint or raise timeoutMs.`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("reads a whole feed through itemsPath and a template, resubmits changed items and reports unusable ones", async () => {
    const server = await feed();
    server.shape = (page) => ({ data: { results: page } });
    server.items = [
      { key: "a", title: "Alpha", body: "first" },
      { key: "b", title: "Beta", body: "second" },
      { title: "no key" },
    ];
    const { poller, submitted, logs } = watch({ url: server.url, itemsPath: "data.results", idField: "key", inputField: "{{title}}: {{body}}", graph: "triage" });
    expect(await poller.pollOnce()).toMatchObject({ fetched: 3, submitted: 2, failed: 1 });
    expect(submitted.map((item) => [item.itemId, item.input, item.graph])).toEqual([
      ["a", "Alpha: first", "triage"],
      ["b", "Beta: second", "triage"],
    ]);
    expect(logs).toContainEqual(expect.objectContaining({ level: "warn", message: 'skipped #2: item 2 has no usable "key" (found nothing); set idField to the field that identifies items' }));

    server.items[1]!["body"] = "second, edited";
    server.items[0]!["unrelated"] = "ignored: not part of the input";
    expect(await poller.pollOnce()).toMatchObject({ submitted: 1, unchanged: 1 });
    expect(submitted.at(-1)).toMatchObject({ itemId: "b", input: "Beta: second, edited", idempotencyKey: `poll:feed:b:${sha256("Beta: second, edited")}` });
  });

  it("explains an answer that holds no item array", async () => {
    const server = await feed();
    server.shape = () => ({ data: { count: 0 } });
    const { poller } = watch({ url: server.url });
    expect((await poller.pollOnce()).error).toBe(`Poll source "feed": the answer is neither an array nor an object with an "items" array (found an object with keys data); set itemsPath to where the items are, e.g. "data.results".`);
  });
});
