import { describe, expect, it } from "vitest";
import { parsePollSourceConfig, parsePollSourceConfigs } from "./config.ts";
import { PollerConfigError } from "./errors.ts";
import { MemoryPollStateStore } from "./state.ts";
import { startPoller, startPollers } from "./poller.ts";

function messageOf(input: unknown): string {
  try {
    parsePollSourceConfig(input, "polling.sources[0]");
  } catch (error) {
    expect(error).toBeInstanceOf(PollerConfigError);
    expect((error as PollerConfigError).code).toBe("POLLER_CONFIG_INVALID");
    return (error as Error).message;
  }
  throw new Error("expected a PollerConfigError");
}

describe("poll source config", () => {
  it("fills defaults for a folder and an HTTP source", () => {
    expect(parsePollSourceConfig({ type: "folder", name: "docs", path: "./inbox" })).toEqual({ type: "folder", name: "docs", path: "./inbox", suffixes: [".md", ".txt"], includeFileName: true, maxBytes: 1_000_000, minAgeMs: 1_000, intervalMs: 30_000 });
    expect(parsePollSourceConfig({ type: "http-json", name: "feed", url: "http://127.0.0.1:1/feed" })).toMatchObject({ idField: "id", inputField: "text", timeoutMs: 10_000, maxPagesPerPoll: 10, intervalMs: 30_000 });
  });

  it("names the bad field, where it is, and what it must be", () => {
    expect(messageOf({ type: "folder", name: "docs", path: "./x", intervalMs: 50 })).toBe('Invalid poll source "docs": polling.sources[0].intervalMs: must be at least 200 ms; polling faster only loads the source.');
    expect(messageOf({ type: "ftp", name: "docs" })).toMatch(/polling\.sources\[0\]\.type: must be "folder" .* or "http-json"/);
    expect(messageOf({ type: "http-json", name: "feed", url: "ftp://example.com/x" })).toContain("polling.sources[0].url: must be an http:// or https:// URL");
    expect(messageOf({ type: "folder", name: "has space", path: "./x" })).toContain('polling.sources[0].name: must be 1-64 letters, digits, "-", "_" or "." (no ":" or spaces)');
    expect(messageOf({ type: "folder", name: "docs", path: "./x", suffixes: [] })).toContain('suffixes: must list at least one file ending such as ".md"');
    expect(messageOf({ type: "http-json", name: "feed", url: "https://example.com", itemsPath: "a..b" })).toContain('itemsPath: must be a dotted path such as "data.items"');
  });

  it("reports every problem at once, including misspelt fields", () => {
    const message = messageOf({ type: "folder", name: "docs", pth: "./x" });
    expect(message).toContain("polling.sources[0].path: must be the folder to watch");
    expect(message).toContain('polling.sources[0].pth: unknown field "pth" (check its spelling)');
  });

  it("refuses two sources with one name, and a list that is not a list", () => {
    expect(() => parsePollSourceConfigs([{ type: "folder", name: "d", path: "a" }, { type: "folder", name: "d", path: "b" }])).toThrow(/Two poll sources are named "d"/);
    expect(() => parsePollSourceConfigs({ type: "folder" })).toThrow(/sources must be a list of poll sources/);
    expect(() => parsePollSourceConfigs([{ type: "folder", name: "ok", path: "a" }, { type: "folder", name: "bad" }])).toThrow(/sources\[1\]\.path/);
  });

  it("refuses a bad source before any poller starts", () => {
    const submit = async () => undefined;
    expect(() => startPoller({ source: { type: "folder", name: "docs", path: "" } as never, state: new MemoryPollStateStore(), submit })).toThrow(PollerConfigError);
    expect(() => startPollers([{ type: "folder", name: "ok", path: "a" }, { type: "nope" } as never], { state: new MemoryPollStateStore(), submit })).toThrow(/sources\[1\]\.type/);
  });
});
