/**
 * RepositoryWorkflowStateStore over the evaluator's DynamoDB repository, against dynalite: the lease the
 * evaluator takes is the lease the workflow confirms, extends, and releases (or promotion clears).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOUR_MS as HOUR } from "../../contracts/time";
import { DynamoDbModelStateRepository } from "../../lambdas/adapters/dynamodb-model-state-repository";
import { RepositoryWorkflowStateStore } from "../../lambdas/adapters/repository-workflow-state-store";
import { emptyProfile } from "../../lambdas/domain/stats/profile";
import { serializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { addPrediction } from "../../lambdas/domain/stats/profile-update";
import { LeaseNotHeldError } from "../../lambdas/ports/workflow-state-store";
import { type Emulators, startEmulators } from "../../local/emulators";

const T0 = Date.parse("2026-11-27T00:00:00Z");
let emulators: Emulators;
let repo: DynamoDbModelStateRepository;
let store: RepositoryWorkflowStateStore;

beforeAll(async () => {
  emulators = await startEmulators({ createStream: false });
  repo = new DynamoDbModelStateRepository({ client: emulators.dynamodb, tableName: emulators.tableName });
  store = new RepositoryWorkflowStateStore(repo);
});
afterAll(async () => {
  await emulators?.stop();
});

describe("RepositoryWorkflowStateStore", () => {
  it("confirms and extends the evaluator's lease, refuses a foreign or expired one", async () => {
    await repo.acquireLease("m1", "run-1", T0, HOUR);
    await store.confirmLease("m1", "run-1", T0 + 1000, 10 * HOUR);
    expect((await repo.getState("m1")).lease?.expiresAt).toBe(T0 + 1000 + 10 * HOUR);
    await expect(store.confirmLease("m1", "run-2", T0 + 2000, HOUR)).rejects.toBeInstanceOf(
      LeaseNotHeldError,
    );
    await expect(store.confirmLease("m1", "run-1", T0 + 11 * HOUR, HOUR)).rejects.toThrow(
      /not by run-1|held by/,
    );
  });

  it("releases only its own lease", async () => {
    await repo.acquireLease("m2", "run-1", T0, HOUR);
    expect(await store.releaseLease("m2", "run-2")).toBe(false);
    expect((await repo.getState("m2")).lease?.owner).toBe("run-1");
    expect(await store.releaseLease("m2", "run-1")).toBe(true);
    expect((await repo.getState("m2")).lease).toBeUndefined();
  });

  it("promotes: champion, baseline and trigger reset in one step, lease released", async () => {
    await repo.acquireLease("m3", "run-1", T0, HOUR);
    const profile = emptyProfile({ task: "binary", features: { x: "numeric" } });
    addPrediction(profile, { features: { x: 1 }, prediction: 1, score: 0.9 });
    await store.promote({
      leaseOwner: "run-1",
      baselineVersion: "m3-20261127t000000",
      baseline: serializeProfile(profile),
      champion: {
        modelId: "m3",
        version: "m3-20261127t000000",
        modelName: "m3-20261127t000000",
        endpointName: "m3",
        metrics: { auc: 0.91, n: 300 },
        promotedAt: T0 + HOUR,
      },
    });
    const state = await repo.getState("m3");
    expect(state).toMatchObject({
      championVersion: "m3-20261127t000000",
      baselineVersion: "m3-20261127t000000",
    });
    expect(state.lease).toBeUndefined();
    expect(await store.getChampion("m3")).toEqual({ version: "m3-20261127t000000" });
    const baseline = await repo.getBaseline("m3", "m3-20261127t000000");
    expect(baseline?.profile.count).toBe(1);
    expect(baseline?.source).toBe("training");
  });
});
