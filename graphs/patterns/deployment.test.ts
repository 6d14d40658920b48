import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema, RunEvents, SqliteDeploymentStore, run } from "conclave";
import type { ConclaveEvent } from "conclave";
import { describe, expect, it } from "vitest";
import { createDeploymentSimulation, example } from "./deployment.ts";

describe("the deployment example on its sample, offline", () => {
  it("rolls v2 back once its error rate climbs past v1's by more than 5 points, then serves everyone from v1", async () => {
    const events = new RunEvents();
    const seen: ConclaveEvent[] = [];
    events.on("event", (event) => seen.push(event));
    const graph = example.build({ config: ConfigSchema.parse({}), cwd: process.cwd() });
    const { state } = await run(graph, example.input(example.sample!), { events });

    // The simulation is deterministic: same customers, same faults, same rollback point.
    expect(state.rolledBackAt).toBe(458);
    expect(state.traffic).toEqual({ before: { v1: 352, v2: 106 }, after: { v1: 142, v2: 0 }, errors: { v1: 9, v2: 8 } });
    expect(state.final).toMatchObject({ status: "rolled-back", canary: { requests: 106, errors: 8 } });
    // About a quarter of the traffic went to the canary before the rollback.
    expect(106 / (352 + 106)).toBeGreaterThan(0.2);
    expect(state.events).toHaveLength(1);
    const reason = "v2 error rate 7.5% (8/106) exceeds v1's 2.0% (7/352) by more than 5.0%";
    expect(state.events[0]).toMatchObject({ type: "rolled-back", automatic: true, reason });
    expect(seen.filter((event) => event.type === "decision")).toEqual([expect.objectContaining({ by: "deployment:shipping-quotes", next: "v1", reason })]);
    expect(seen.some((event) => event.type === "warning" && event.message === `deployment shipping-quotes: rolled back to v1: ${reason}`)).toBe(true);
    expect(example.output(state).answer.split("\n")[0]).toBe(`v2 was rolled back automatically after request 458 of 600: ${reason}.`);
  });

  it("keeps the rollback in a SQLite store: the next run sends every request to v1 from the start", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "conclave-deployment-example-")), "deployments.sqlite");
    const first = await run(createDeploymentSimulation({ store: new SqliteDeploymentStore({ path }) }), { task: "300 requests" });
    expect(first.state.final?.status).toBe("canary");
    const canaryRequests = first.state.final!.canary.requests;
    // Counts carry over between runs (a new process, the same file), and this run's rise in v2's errors trips the rule.
    const second = await run(createDeploymentSimulation({ store: new SqliteDeploymentStore({ path }) }), { task: "600 requests" });
    expect(second.state.rolledBackAt).toBeDefined();
    expect(second.state.final!.canary.requests).toBe(canaryRequests + second.state.traffic!.before.v2!);
    const third = await run(createDeploymentSimulation({ store: new SqliteDeploymentStore({ path }) }), { task: "100 requests" });
    expect(third.state.traffic).toMatchObject({ before: { v1: 100, v2: 0 } });
    expect(third.state.events).toEqual([]);
  });
});
