import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DefinitionError, RunAbortedError } from "../errors.ts";
import { BudgetExceededError } from "../runtime/budget.ts";
import { SqliteDeploymentStore } from "./deployment-store.ts";
import { UnknownFlagError, createDeployment } from "./deployment.ts";
import type { DeploymentEvent, DeploymentOptions } from "./deployment.ts";

const USERS = Array.from({ length: 10_000 }, (_, index) => `user-${index}`);
const rollback = { metric: "error-rate" as const, margin: 0.05, minSamples: 100 };

function deployment(extra: Partial<DeploymentOptions<string>> = {}) {
  const events: DeploymentEvent[] = [];
  const created = createDeployment({ name: "answerer", stable: { name: "v1", target: "graph-v1" }, canary: { name: "v2", target: "graph-v2" }, rollout: { percent: 10 }, rollback, onEvent: (event) => events.push(event), ...extra });
  return { deployment: created, events };
}

/** `count` outcomes with exactly `errorRate` of them errors, spread evenly. */
function feed(target: ReturnType<typeof deployment>["deployment"], version: "stable" | "canary", count: number, errorRate: number) {
  let errors = 0;
  for (let index = 1; index <= count; index++) {
    const error = Math.floor(index * errorRate) > errors;
    if (error) errors++;
    target.record(version, error ? "error" : "ok");
  }
}

describe("deployment: canary with automatic rollback", () => {
  it("rolls the canary back when its error rate climbs past stable's by more than the margin, then sends everyone to stable", async () => {
    const store = new SqliteDeploymentStore({ path: join(mkdtempSync(join(tmpdir(), "conclave-deploy-")), "deployments.sqlite") });
    const { deployment: live, events } = deployment({ store });
    feed(live, "stable", 1_000, 0.02);
    // The canary gets worse step by step: 2%, 5%, 10%, then 20% errors.
    const phases: Array<{ rate: number; status: string }> = [];
    for (const rate of [0.02, 0.05, 0.1, 0.2]) {
      feed(live, "canary", 100, rate);
      phases.push({ rate, status: live.state().status });
    }
    // Cumulative canary rate after 2%, 5%, 10%: 5.7% — within 2% + 5 points; during the 20% phase it passes 7%.
    expect(phases).toEqual([{ rate: 0.02, status: "canary" }, { rate: 0.05, status: "canary" }, { rate: 0.1, status: "canary" }, { rate: 0.2, status: "rolled-back" }]);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ type: "rolled-back", deployment: "answerer", automatic: true });
    const rolledBack = event as Extract<DeploymentEvent, { type: "rolled-back" }>;
    expect(rolledBack.canary.errors / rolledBack.canary.requests - rolledBack.stable.errors / rolledBack.stable.requests).toBeGreaterThan(0.05);
    expect(rolledBack.reason).toMatch(/^v2 error rate 7\.\d% \(\d+\/\d+\) exceeds v1's 2\.0% \(20\/1000\) by more than 5\.0%$/);

    // After the rollback, everyone is on stable — including users the rollout had put on the canary.
    expect(USERS.every((user) => live.route(user).version === "stable")).toBe(true);
    expect(live.route("user-1").reason).toBe(`the canary was rolled back: ${rolledBack.reason}`);
    // More canary failures do not roll back (or report) twice.
    feed(live, "canary", 50, 1);
    expect(events).toHaveLength(1);

    // The state is stored: another process (a new deployment on the same file) routes the same way.
    const other = createDeployment({ name: "answerer", stable: { name: "v1", target: "graph-v1" }, canary: { name: "v2", target: "graph-v2" }, rollout: { percent: 10 }, rollback, store: new SqliteDeploymentStore({ path: store.path }) });
    expect(other.state()).toMatchObject({ status: "rolled-back", reason: rolledBack.reason });
    expect(other.route("anyone").version).toBe("stable");
    store.close();
  });

  it("does not roll back under minSamples, however bad the canary looks", () => {
    const { deployment: live, events } = deployment();
    feed(live, "stable", 500, 0.02);
    feed(live, "canary", 99, 1);
    expect(live.state()).toMatchObject({ status: "canary", canary: { requests: 99, errors: 99 } });
    expect(events).toEqual([]);
    // The 100th sample reaches minSamples: now it rolls back.
    live.record("canary", "error");
    expect(live.state().status).toBe("rolled-back");
  });

  it("does not roll back while the canary stays within the margin", () => {
    const { deployment: live, events } = deployment();
    feed(live, "stable", 2_000, 0.02);
    feed(live, "canary", 2_000, 0.065);
    expect(live.state()).toMatchObject({ status: "canary", stable: { requests: 2_000, errors: 40 }, canary: { requests: 2_000, errors: 130 } });
    expect(events).toEqual([]);
  });

  it("needs stable's baseline too: a canary is not judged against a stable with fewer than minSamples", () => {
    const { deployment: live } = deployment();
    feed(live, "stable", 50, 0);
    feed(live, "canary", 500, 0.5);
    expect(live.state().status).toBe("canary");
  });

  it("routes each user stickily, and the rollout percentage holds within ±2 points over 10,000 users", () => {
    const { deployment: live } = deployment();
    const first = USERS.map((user) => live.route(user).version);
    const again = createDeployment({ name: "answerer", stable: { name: "v1", target: "graph-v1" }, canary: { name: "v2", target: "graph-v2" }, rollout: { percent: 10 }, rollback });
    expect(USERS.map((user) => live.route(user).version)).toEqual(first);
    expect(USERS.map((user) => again.route(user).version)).toEqual(first);
    const share = first.filter((version) => version === "canary").length / USERS.length;
    expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(0.02);
    expect(live.route(USERS[first.indexOf("canary")]!)).toMatchObject({ version: "canary", name: "v2", target: "graph-v2", reason: expect.stringMatching(/^bucket \d+ is within the 10% rollout$/) });
    for (const percent of [1, 25, 50, 90]) {
      const rollout = createDeployment({ name: "answerer", stable: { name: "v1", target: "a" }, canary: { name: "v2", target: "b" }, rollout: { percent } });
      const measured = USERS.filter((user) => rollout.route(user).version === "canary").length / USERS.length;
      expect(Math.abs(measured - percent / 100), `rollout ${percent}%`).toBeLessThanOrEqual(0.02);
    }
  });

  it("puts listed users on the canary, and promote() switches everyone (blue-green) with the rule still watching", () => {
    const { deployment: live, events } = deployment({ rollout: { users: ["ann", "bo"] } });
    expect(["ann", "bo", "cy"].map((user) => live.route(user).version)).toEqual(["canary", "canary", "stable"]);
    expect(USERS.some((user) => live.route(user).version === "canary")).toBe(false);
    live.promote("v2 passed review");
    expect(USERS.every((user) => live.route(user).version === "canary")).toBe(true);
    expect(events).toEqual([{ type: "promoted", deployment: "answerer", reason: "v2 passed review" }]);
    feed(live, "stable", 200, 0.01);
    feed(live, "canary", 200, 0.2);
    expect(live.route("ann").version).toBe("stable");
    expect(events.at(-1)).toMatchObject({ type: "rolled-back", automatic: true });
  });

  it("serve() records each outcome: a throw counts as an error and is rethrown", async () => {
    const { deployment: live } = deployment({ rollout: { users: ["ann"] } });
    await expect(live.serve("ann", (target) => `${target} answered`)).resolves.toBe("graph-v2 answered");
    await expect(live.serve("cy", () => Promise.reject(new Error("timeout")))).rejects.toThrow("timeout");
    expect(live.state()).toMatchObject({ stable: { requests: 1, errors: 1 }, canary: { requests: 1, errors: 0 } });
  });
});

describe("deployment: what serve() does not count", () => {
  it("does not roll back on 100 cancelled canary requests: aborts, cancelled runs and spent budgets are not the version's errors", async () => {
    const { deployment: live, events } = deployment({ rollout: { users: ["ann"] } });
    feed(live, "stable", 100, 0);
    const aborted = new AbortController();
    aborted.abort();
    const cancellations = [
      () => Promise.reject(new DOMException("The operation was aborted.", "AbortError")),
      () => Promise.reject(new RunAbortedError(new Error("user pressed stop"))),
      () => Promise.reject(new BudgetExceededError("maxModelCalls", 2, 3)),
    ];
    for (let index = 0; index < 100; index++) {
      const cancelled = index % 4 === 3 ? () => Promise.reject(new Error("socket hang up")) : cancellations[index % 4]!;
      // Every fourth request fails with a plain error, but under a signal that was aborted: a cancellation too.
      await expect(live.serve("ann", cancelled, index % 4 === 3 ? { signal: aborted.signal } : undefined)).rejects.toThrow();
    }
    expect(live.state()).toMatchObject({ status: "canary", canary: { requests: 0, errors: 0 } });
    expect(events).toEqual([]);
    expect(live.route("ann").version).toBe("canary");
  });
});

describe("feature flags", () => {
  it("are stable per user, honour lists and percentages, and are independent of each other", () => {
    const { deployment: live } = deployment({ flags: { "new-prompt": { percent: 30 }, beta: { users: ["ann"] }, "kill-switch": false, both: { users: ["ann"], percent: 5 } } });
    const newPrompt = USERS.filter((user) => live.isEnabled("new-prompt", user));
    expect(Math.abs(newPrompt.length / USERS.length - 0.3)).toBeLessThanOrEqual(0.02);
    expect(USERS.filter((user) => live.isEnabled("new-prompt", user))).toEqual(newPrompt);
    expect([live.isEnabled("beta", "ann"), live.isEnabled("beta", "bo"), live.isEnabled("kill-switch", "ann"), live.isEnabled("both", "ann")]).toEqual([true, false, false, true]);
    // Salted per flag: the 5% of "both" are not simply the first of the 30% of "new-prompt".
    const both = USERS.filter((user) => live.isEnabled("both", user));
    expect(both.every((user) => newPrompt.includes(user))).toBe(false);
    expect(() => live.isEnabled("nope", "ann")).toThrow(UnknownFlagError);
    expect(() => live.isEnabled("nope", "ann")).toThrow('No feature flag "nope". Defined flags: new-prompt, beta, kill-switch, both.');
  });
});

describe("options", () => {
  it("rejects a canary without a rollout, clashing names and an unknown metric", () => {
    expect(() => createDeployment({ name: "x", stable: { name: "v1", target: 1 }, canary: { name: "v2", target: 2 } })).toThrow(/a canary needs a rollout/);
    expect(() => createDeployment({ name: "x", stable: { name: "v1", target: 1 }, canary: { name: "v1", target: 2 }, rollout: { percent: 5 } })).toThrow(/different names/);
    expect(() => createDeployment({ name: "x", stable: { name: "v1", target: 1 }, rollback: { metric: "latency" as never, margin: 0.1, minSamples: 10 } })).toThrow(DefinitionError);
    expect(() => createDeployment({ name: "x", stable: { name: "v1", target: 1 } }).record("canary", "ok")).toThrow(/has no canary/);
  });
});
