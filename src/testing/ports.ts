import { createServer } from "node:net";

/**
 * A port on 127.0.0.1 that nothing listens on (bound, read, then closed), for testing what happens
 * when a provider is unreachable — safer than a fixed "closed" port that may be in use.
 */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
