/**
 * DynamoDbModelStateRepository against in-process DynamoDB (dynalite): the single-flight lease,
 * once-only decision records and the post-deploy reset, including concurrent callers.
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS as DAY, HOUR_MS as HOUR } from "../../contracts/time";
import {
  DynamoDbModelStateRepository,
  LeaseConflictError,
} from "../../lambdas/adapters/dynamodb-model-state-repository";
import { type Emulators, startEmulators } from "../../local/emulators";
import { Simulation, T0 } from "../support/simulation";

let emulators: Emulators;
let repo: DynamoDbModelStateRepository;

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  repo = new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName: emulators.tableName });
});
afterAll(async () => {
  await emulators?.stop();
});

describe("lease", () => {
  it("is taken if absent, kept by its owner, refused to others, taken over once expired", async () => {
    const m = "lease-a";
    expect(await repo.acquireLease(m, "run-1", 1000, 500)).toMatchObject({
      acquired: true,
      lease: { owner: "run-1" },
    });
    const refused = await repo.acquireLease(m, "run-2", 1200, 500);
    expect(refused).toEqual({
      acquired: false,
      lease: { owner: "run-1", acquiredAt: 1000, expiresAt: 1500 },
    });
    // The same owner (a retried evaluation) re-acquires and extends.
    expect(await repo.acquireLease(m, "run-1", 1300, 500)).toMatchObject({
      acquired: true,
      lease: { owner: "run-1", acquiredAt: 1000, expiresAt: 1800 },
    });
    expect(await repo.acquireLease(m, "run-2", 1800, 500)).toMatchObject({
      acquired: true,
      lease: { owner: "run-2" },
    });
    expect((await repo.getState(m)).lease?.owner).toBe("run-2");
  });

  it("is released only by its owner", async () => {
    const m = "lease-b";
    await repo.acquireLease(m, "run-1", 0, 10_000);
    expect(await repo.releaseLease(m, "intruder")).toBe(false);
    expect((await repo.getState(m)).lease?.owner).toBe("run-1");
    expect(await repo.releaseLease(m, "run-1")).toBe(true);
    expect((await repo.getState(m)).lease).toBeUndefined();
    expect(await repo.releaseLease(m, "run-1")).toBe(false);
  });

  it("goes to exactly one of many concurrent callers", async () => {
    const m = "lease-c";
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => repo.acquireLease(m, `run-${i}`, 5000, 60_000)),
    );
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    for (const r of results) expect(r.lease?.owner).toBe(winners[0]!.lease!.owner);
  });
});

describe("decisions and state", () => {
  const sim = new Simulation({ policy: {}, eventsPerHour: 100, baselineEvents: 1000 });
  const decision = sim.evaluateAt(T0 + DAY);

  it("stores a decision once and returns the first on a retry", async () => {
    expect(await repo.recordDecision({ decision, notified: false }, 90)).toEqual({ recorded: true });
    const again = await repo.recordDecision(
      { decision: { ...decision, action: "retrain" }, notified: true },
      90,
    );
    expect(again.recorded).toBe(false);
    expect(again.existing?.decision.action).toBe(decision.action);
    expect(again.existing?.notified).toBe(false);
    await repo.markNotified(decision.modelId, decision.evaluatedAt);
    expect((await repo.getDecision(decision.modelId, decision.evaluatedAt))?.notified).toBe(true);
    const history = await repo.listHistory(decision.modelId, T0, T0 + 2 * DAY);
    expect(history).toEqual([
      {
        evaluatedAt: decision.evaluatedAt,
        ruleSatisfied: decision.ruleSatisfied,
        action: decision.action,
        values: decision.values,
      },
    ]);
    const listed = await repo.listDecisions(decision.modelId, T0, T0 + 2 * DAY);
    expect(listed.map((r) => r.decision.summary)).toEqual([decision.summary]);
  });

  it("records a retrain start once per evaluation time", async () => {
    const m = "state-a";
    const update = { labelLedger: { settled: 5, open: { "0": 3 } }, decision, retrainStartedAt: T0 + DAY };
    await repo.saveEvaluation(m, update);
    await repo.saveEvaluation(m, update);
    const state = await repo.getState(m);
    expect(state.retrainStarts).toEqual([T0 + DAY]);
    expect(state.lastRetrainAt).toBe(T0 + DAY);
    expect(state.labelLedger).toEqual({ settled: 5, open: { "0": 3 } });
    expect(state.lastDecision).toEqual({
      evaluatedAt: decision.evaluatedAt,
      action: decision.action,
      severity: decision.severity,
    });
  });

  it("resets after a deploy: champion, baseline, counters, cooldown start, lease released", async () => {
    const m = "state-b";
    await repo.saveEvaluation(m, { labelLedger: { settled: 900, open: {} }, decision, retrainStartedAt: T0 });
    await repo.acquireLease(m, "churn-run", T0, DAY);
    const baselineProfile = sim.buckets.get(T0)!.profile;
    const reset = {
      modelId: m,
      championVersion: "v2",
      championTrainedAt: T0 + HOUR,
      baselineVersion: "v2",
      baseline: {
        version: "v2",
        profile: baselineProfile,
        createdAt: T0 + HOUR,
        source: "training" as const,
      },
      champion: { modelName: "churn-v2", metrics: { accuracy: 0.91 } },
      at: T0 + 2 * HOUR,
      leaseOwner: "churn-run",
    };
    await repo.resetAfterDeploy(reset);
    await repo.resetAfterDeploy(reset);
    const state = await repo.getState(m);
    expect(state).toMatchObject({
      championVersion: "v2",
      championTrainedAt: T0 + HOUR,
      baselineVersion: "v2",
      lastDeployAt: T0 + 2 * HOUR,
      labelLedger: { settled: 0, open: {} },
    });
    expect(state.lease).toBeUndefined();
    const stored = await repo.getBaseline(m, "v2");
    expect(stored?.profile.count).toBe(baselineProfile.count);
    expect(stored?.source).toBe("training");
  });

  it("refuses to reset while another run holds the lease", async () => {
    const m = "state-c";
    await repo.acquireLease(m, "other-run", T0, DAY);
    await expect(
      repo.resetAfterDeploy({
        modelId: m,
        championVersion: "v3",
        baselineVersion: "v3",
        at: T0 + HOUR,
        leaseOwner: "stale-run",
      }),
    ).rejects.toBeInstanceOf(LeaseConflictError);
    expect((await repo.getState(m)).championVersion).toBeUndefined();
  });
});
