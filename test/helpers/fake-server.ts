import { afterEach, beforeEach } from "vitest";
import { breakers } from "../../src/index.ts";
import { startFakeOpenAIServer } from "../../src/testing/index.ts";
import type { FakeOpenAIServer } from "../../src/testing/index.ts";

/**
 * A fresh fake OpenAI-compatible server for each test, handed to `onStart` (which may script it);
 * closed after the test, with the process-wide circuit breakers and Retry-After holds cleared so
 * one test's failures never trip the next.
 */
export function useFakeServer(onStart: (server: FakeOpenAIServer) => void): void {
  let server: FakeOpenAIServer | undefined;
  beforeEach(async () => {
    server = await startFakeOpenAIServer();
    onStart(server);
  });
  afterEach(async () => {
    await server?.close();
    breakers.clear();
  });
}
