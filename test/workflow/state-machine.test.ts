/**
 * Executes the synthesized retraining definition with aws-local-stepfunctions: the task Lambda runs
 * in-process against in-memory ports, SageMaker and SNS states are overridden by FakeSageMaker.
 */
import { StateMachine } from "aws-local-stepfunctions";
import { describe, expect, it } from "vitest";
import { DAY_MS } from "../../contracts/time";
import { STATE } from "../../contracts/workflow";
import { createWorkflowTasks } from "../../lambdas/app/retraining/workflow-tasks";
import { deserializeProfile } from "../../lambdas/domain/stats/profile-codec";
import { aslFromTemplate, taskLambdaOverrides } from "../../local/asl";
import { MemoryObjectStore } from "../../local/object-store";
import { mulberry32 as rng } from "../../local/prng";
import { labelEvent, predictionEvent } from "../support/events";
import { FakeSageMaker, type Scenario } from "../support/fake-sagemaker";
import { FakeHosting, MemoryStateStore } from "../support/retraining-ports";
import { synthWorkflow, testModels } from "../support/workflow-stack";

// One synthesis per file; approvals time out after 1 s so that the timeout path runs for real.
const { template } = synthWorkflow({ bundle: false, approvalTimeoutHours: 1 / 3600 });
const definition = aslFromTemplate(template.toJSON());
// Validated once (asl-validator inside the interpreter); reused by every execution of this file.
const machine = new StateMachine(definition as never, {
  validationOptions: { checkArn: false, checkPaths: true },
});

const BUCKET = "archive-bucket";
const START = "2026-11-27T00:00:00.000Z";
const EXECUTION = "retrain-churn-20261127";
const OLD_CONFIG = "churn-v1-config";

/**
 * A week of churn predictions with labels a day later, in the Firehose layout `<model>/yyyy/MM/dd/`:
 * 14,000, enough for the default gate (AUC, margin 0.01) to size a powered holdout (about 5,000 rows).
 */
function seedArchive(objects: MemoryObjectStore, n = 14_000): void {
  const random = rng(7);
  const files = new Map<string, string[]>();
  const add = (t: number, event: unknown) => {
    const d = new Date(t).toISOString();
    const key = `s3://${BUCKET}/churn/${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}/part-0.jsonl`;
    files.set(key, [...(files.get(key) ?? []), JSON.stringify(event)]);
  };
  const t0 = Date.parse("2026-11-19T00:00:00Z");
  for (let i = 0; i < n; i++) {
    const t = t0 + Math.floor((i / n) * 6 * DAY_MS);
    const x = random();
    const plan = random() < 0.5 ? "pro" : "basic";
    const y = x + 0.2 * (random() - 0.5) > 0.5 ? 1 : 0;
    const requestId = `req-${i}`;
    add(t, predictionEvent({ requestId, timestamp: t, features: { x, plan }, prediction: 0, score: 0.5 }));
    add(t + DAY_MS, labelEvent({ requestId, timestamp: t + DAY_MS, label: y }));
  }
  for (const [k, lines] of files) objects.putSync(k, `${lines.join("\n")}\n`);
}

interface Outcome {
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { name: string; message: string };
  state: MemoryStateStore;
  sm: FakeSageMaker;
  objects: MemoryObjectStore;
}

/** The test models with churn's configured variant name replaced. */
function modelsWithVariant(variantName: string | undefined) {
  return testModels().map((m) =>
    m.id === "churn" && variantName !== undefined
      ? { ...m, retraining: { ...m.retraining, deployment: { ...m.retraining.deployment, variantName } } }
      : m,
  );
}

async function run(
  scenario: Scenario & {
    severity?: string;
    failFirstLambda?: string;
    firstDeployment?: boolean;
    /** Production variants of the live endpoint. @default ["AllTraffic"] */
    liveVariants?: string[];
    /** churn's `deployment.variantName`. @default the configured one ("AllTraffic") */
    variantName?: string;
  },
): Promise<Outcome> {
  const objects = new MemoryObjectStore();
  seedArchive(objects);
  const state = new MemoryStateStore();
  state.leases.set("churn", { owner: EXECUTION, expiresAt: Date.parse(START) + DAY_MS });
  if (!scenario.firstDeployment)
    state.champions.set("churn", {
      modelId: "churn",
      version: "v1",
      modelName: "churn-v1",
      endpointName: "churn-prod",
      endpointConfigName: OLD_CONFIG,
      promotedAt: Date.parse("2026-10-01T00:00:00Z"),
    });
  const sm = new FakeSageMaker(objects, scenario);
  sm.models.set("churn-v1", "champion");
  if (!scenario.firstDeployment) {
    sm.endpoints.set("churn-prod", {
      exists: true,
      status: "InService",
      configName: OLD_CONFIG,
      modelName: "churn-v1",
      variantNames: scenario.liveVariants ?? ["AllTraffic"],
    });
  }
  const tasks = createWorkflowTasks({
    models: modelsWithVariant(scenario.variantName),
    state,
    objects,
    hosting: new FakeHosting(sm.endpoints, {
      models: sm.models,
      configs: () =>
        sm.calls.filter((c) => c.state === STATE.createEndpointConfig).map((c) => c.input.EndpointConfigName),
    }),
    layout: {
      bucket: BUCKET,
      datasetsPrefix: "retraining/datasets/",
      artifactsPrefix: "retraining/artifacts/",
    },
    now: () => Date.parse(START) + 60_000,
  });
  const lambdaCalls = new Map<string, number>();
  const handle = async (event: { action: string } & Record<string, unknown>) => {
    const count = (lambdaCalls.get(event.action) ?? 0) + 1;
    lambdaCalls.set(event.action, count);
    if (scenario.failFirstLambda === event.action && count === 1) {
      throw Object.assign(new Error("Rate exceeded"), { name: "Lambda.TooManyRequestsException" });
    }
    return tasks.handle(event);
  };
  const input = {
    modelId: "churn",
    severity: scenario.severity ?? "warn",
    reason: "drift",
    window: { to: START },
  };
  const execution = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: { ...taskLambdaOverrides(handle), ...sm.overrides() },
      waitTimeOverrides: { [STATE.waitForEndpoint]: 0 },
      retryIntervalOverrides: Object.fromEntries(
        [STATE.confirmLease, STATE.createChallengerModel, STATE.trainChallenger, STATE.updateEndpoint].map(
          (s) => [s, 0],
        ),
      ),
    },
    context: {
      Execution: {
        Id: `arn:aws:states:eu-west-1:123456789012:execution:sm:${EXECUTION}`,
        Name: EXECUTION,
        StartTime: START,
        Input: input,
      },
      Task: { Token: "TOKEN-123" },
    },
  });
  try {
    const result = (await execution.result) as Record<string, unknown>;
    return { ok: true, result, state, sm, objects };
  } catch (e) {
    const cause = (e as { cause?: { name: string; message: string } }).cause ?? (e as Error);
    return { ok: false, error: { name: cause.name, message: cause.message }, state, sm, objects };
  } finally {
    Object.assign(globalThis, { lastLambdaCalls: lambdaCalls });
  }
}

/** Every failure path: lease released, champion and endpoint unchanged, one alert with the cause. */
function failureAlert(o: Outcome): string {
  return o.sm.published.find((p) => p.state === STATE.notifyFailure)?.message ?? "";
}

function expectFailedSafely(o: Outcome, errorName: string, causeFragment: RegExp): void {
  expect(o.ok).toBe(false);
  expect(o.error?.name).toBe(errorName);
  expect(o.state.leases.has("churn")).toBe(false);
  expect(o.state.champions.get("churn")?.version).toBe("v1");
  expect(o.state.registry).toHaveLength(0);
  expect(o.sm.endpoints.get("churn-prod")?.configName).toBe(OLD_CONFIG);
  const alerts = o.sm.published.filter((p) => p.state === STATE.notifyFailure);
  expect(alerts).toHaveLength(1);
  expect(alerts[0]?.severity).toBe("warn");
  expect(alerts[0]?.message).toMatch(causeFragment);
  expect(alerts[0]?.message).toContain("The lease is released");
  expect(o.sm.published.some((p) => p.state === STATE.notifySuccess)).toBe(false);
}

describe("retraining state machine (aws-local-stepfunctions)", () => {
  it("happy path: trains, beats the champion, deploys blue/green, promotes and releases the lease", async () => {
    const o = await run({});
    expect(o.error).toBeUndefined();
    // aws-local-stepfunctions stamps $$.Execution.StartTime with the wall clock: the run id follows it.
    const runId = o.state.champions.get("churn")!.version;
    expect(runId).toMatch(/^churn-\d{8}t\d{6}$/);
    expect(o.state.champions.get("churn")).toMatchObject({ modelName: runId, endpointConfigName: runId });
    expect(o.state.resets).toEqual(["churn"]);
    expect(o.state.leases.has("churn")).toBe(false);
    expect(o.sm.endpoints.get("churn-prod")).toMatchObject({ status: "InService", configName: runId });
    // The baseline is a real profile of the challenger's holdout predictions.
    const baseline = deserializeProfile(o.state.baselines.get(`churn#${runId}`)!);
    expect(baseline.count).toBeGreaterThanOrEqual(100);
    expect(Object.keys(baseline.features).sort()).toEqual(["plan", "x"]);
    // UpdateEndpoint carried the blue/green canary policy and the rollback alarms.
    const update = o.sm.calls.find((c) => c.state === STATE.updateEndpoint)!.input;
    expect(update.DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type).toBe("CANARY");
    expect(update.DeploymentConfig.AutoRollbackConfiguration.Alarms).toHaveLength(2);
    // Training got the configured image, hyperparameters and max runtime.
    const train = o.sm.calls.find((c) => c.state === STATE.trainChallenger)!.input;
    expect(train.HyperParameters).toEqual({ max_depth: "4" });
    expect(train.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 3600 });
    expect(train.AlgorithmSpecification.TrainingImage).toContain("churn-train:1");
    // Both models were scored on the same holdout.
    const scored = o.sm.calls.filter(
      (c) => c.state === STATE.scoreChallenger || c.state === STATE.scoreChampion,
    );
    expect(new Set(scored.map((c) => c.input.TransformInput.DataSource.S3DataSource.S3Uri)).size).toBe(1);
    expect(scored).toHaveLength(2);
    const success = o.sm.published.filter((p) => p.state === STATE.notifySuccess);
    expect(success).toHaveLength(1);
    // It passed for the right reasons: a powered holdout, the paired AUC test and the rank agreement.
    const message = success[0]?.message ?? "";
    expect(message).toMatch(
      /validation gate passed: challenger auc 0\.9\d+ vs champion 0\.9\d+ on \d+ holdout rows/,
    );
    expect(message).toMatch(
      /- holdout: positive rows [\d,]+ >= [\d,]+, negative rows [\d,]+ >= [\d,]+ .*, large enough/,
    );
    expect(message).toMatch(/- non-inferiority: .* is rejected at alpha 0\.05 .*passed\. Test: DeLong test/);
    expect(message).toMatch(
      /- agreement: Spearman rank correlation of the two models' scores 0\.\d+ >= 0\.5 required, passed/,
    );
    // The holdout share grew from the default 15 % until the paired AUC test is powered.
    const dataset = o.result?.dataset as { holdoutShare: number; holdoutPlan: string };
    expect(dataset.holdoutShare).toBeGreaterThan(0.15);
    expect(dataset.holdoutPlan).toMatch(
      /^holdout share raised from 15% to \d+% so that the paired auc test is powered/,
    );
    const evaluation = o.result?.evaluation as {
      passed: boolean;
      checks: { name: string; passed: boolean }[];
    };
    expect(evaluation.checks.map((c) => [c.name, c.passed])).toEqual([
      ["holdoutSize", true],
      ["nonInferiority", true],
      ["agreement", true],
    ]);
    // The state payload stays small.
    expect(JSON.stringify(o.result).length).toBeLessThan(16_000);
  });

  it("first deployment: no champion to score, the endpoint is created", async () => {
    const o = await run({ firstDeployment: true });
    expect(o.error).toBeUndefined();
    expect(o.sm.callCount(STATE.scoreChampion)).toBe(0);
    expect(o.sm.callCount(STATE.createEndpoint)).toBe(1);
    expect(o.sm.callCount(STATE.updateEndpoint)).toBe(0);
    const runId = o.state.champions.get("churn")!.version;
    expect(o.sm.endpoints.get("churn-prod")).toMatchObject({ status: "InService", configName: runId });
    expect(o.sm.published.find((p) => p.state === STATE.notifySuccess)?.message).toContain(
      "(first model: no champion to compare with)",
    );
  });

  it("asks for approval when the policy requires it and deploys once approved", async () => {
    const o = await run({ severity: "retrain", approval: "approve" });
    expect(o.error).toBeUndefined();
    const request = o.sm.published.find((p) => p.state === STATE.requestApproval)!;
    expect(request.message).toContain("npm run cli -- approve --token TOKEN-123");
    expect(request.message).toContain("--reject --reason");
    expect(o.state.champions.get("churn")?.version).not.toBe("v1");
  });

  it("training failed: alert carries SageMaker's failure reason", async () => {
    const o = await run({ trainingFailure: "AlgorithmError: out of memory" });
    expectFailedSafely(
      o,
      "States.TaskFailed",
      /failed at stage "training"[\s\S]*AlgorithmError: out of memory/,
    );
    expect(failureAlert(o)).not.toContain("Challenger");
  });

  it("validation rejected: a worse challenger never reaches the endpoint, and is deleted", async () => {
    const o = await run({ challenger: "bad" });
    expectFailedSafely(
      o,
      "ValidationRejected",
      /validation gate rejected: [\s\S]*- non-inferiority: .*cannot be rejected at alpha 0\.05/,
    );
    expect(o.sm.calls.some((c) => c.state === STATE.createEndpointConfig)).toBe(false);
    expect([...o.sm.models.keys()]).toEqual(["churn-v1"]);
    expect(failureAlert(o)).toMatch(/Challenger cleaned up: deleted model churn-\w+\./);
  });

  it("approval rejected", async () => {
    const o = await run({ severity: "retrain", approval: "reject" });
    expectFailedSafely(o, "ApprovalRejected", /metrics look suspicious/);
    expect(o.sm.calls.some((c) => c.state === STATE.updateEndpoint)).toBe(false);
    expect([...o.sm.models.keys()]).toEqual(["churn-v1"]);
  });

  it("approval timed out", async () => {
    const o = await run({ severity: "retrain", approval: "ignore" });
    expectFailedSafely(o, "States.Timeout", /failed at stage "approval"/);
  });

  it("endpoint update rolled back by its alarms: the unused challenger config and model are deleted", async () => {
    const o = await run({ deploy: "rollback" });
    expectFailedSafely(o, "EndpointRolledBack", /rolled back/);
    expect(o.sm.callCount(STATE.describeEndpoint)).toBe(3);
    expect([...o.sm.models.keys()]).toEqual(["churn-v1"]);
    expect(failureAlert(o)).toMatch(/deleted endpoint config churn-\w+ and model churn-\w+\./);
  });

  it("endpoint update failed", async () => {
    const o = await run({ deploy: "failed" });
    expect(o.error?.name).toBe("EndpointUpdateFailed");
    expect(o.state.leases.has("churn")).toBe(false);
    expect(o.state.champions.get("churn")?.version).toBe("v1");
    const alert = o.sm.published.find((p) => p.state === STATE.notifyFailure)!;
    expect(alert.message).toContain("new fleet failed health checks");
    // The failed endpoint may still reference the challenger: it is kept, and the alert says why.
    expect(o.sm.models.size).toBe(2);
    expect(alert.message).toMatch(/are kept: endpoint churn-prod is Failed/);
  });

  it("keeps the live endpoint's variant name: the new endpoint config's variant is the configured one", async () => {
    const o = await run({ liveVariants: ["Blue"], variantName: "Blue" });
    expect(o.error).toBeUndefined();
    const config = o.sm.calls.find((c) => c.state === STATE.createEndpointConfig)!.input;
    expect(config.ProductionVariants.map((v) => v.VariantName)).toEqual(["Blue"]);
    expect(o.sm.endpoints.get("churn-prod")).toMatchObject({ status: "InService", variantNames: ["Blue"] });
    expect(o.state.champions.get("churn")?.version).not.toBe("v1");
  });

  it.each([
    [["Blue"], /serves production variant "Blue" but models\[0\]\.deployment\.variantName is "AllTraffic"/],
    [
      ["Blue", "Green"],
      /has 2 production variants \("Blue", "Green"\).*models\[0\]\.deployment\.variantName/,
    ],
  ])(
    "live variants %j that the run cannot keep: fails at ConfirmLease naming the field, before training",
    async (liveVariants, message) => {
      const o = await run({ liveVariants });
      expectFailedSafely(o, "WorkflowInputError", message);
      expect(failureAlert(o)).toContain('failed at stage "lease"');
      expect(o.sm.callCount(STATE.trainChallenger)).toBe(0);
    },
  );

  it("transient errors are retried: throttled Lambda and SageMaker calls succeed on retry", async () => {
    const o = await run({
      failFirstLambda: "confirmLease",
      throttleOnce: [STATE.createChallengerModel, STATE.updateEndpoint],
    });
    expect(o.error).toBeUndefined();
    expect(o.sm.callCount(STATE.createChallengerModel)).toBe(2);
    expect(o.sm.callCount(STATE.updateEndpoint)).toBe(2);
    const { lastLambdaCalls } = globalThis as unknown as { lastLambdaCalls: Map<string, number> };
    expect(lastLambdaCalls.get("confirmLease")).toBe(2);
    expect(o.state.champions.get("churn")?.version).not.toBe("v1");
  });

  it("a lease held by another run is neither used nor released", async () => {
    const objects = new MemoryObjectStore();
    const o = await (async () => {
      const outcome = await run({});
      return outcome;
    })();
    // Sanity: the normal run released its own lease; now simulate a foreign lease.
    expect(o.ok).toBe(true);
    const state = new MemoryStateStore();
    state.leases.set("churn", { owner: "someone-else", expiresAt: Number.MAX_SAFE_INTEGER });
    const sm = new FakeSageMaker(objects, {});
    const tasks = createWorkflowTasks({
      models: testModels(),
      state,
      objects,
      hosting: new FakeHosting(sm.endpoints),
      layout: {
        bucket: BUCKET,
        datasetsPrefix: "retraining/datasets/",
        artifactsPrefix: "retraining/artifacts/",
      },
      now: () => Date.parse(START),
    });
    const execution = machine.run(
      { modelId: "churn" },
      {
        overrides: { taskResourceLocalHandlers: { ...taskLambdaOverrides(tasks.handle), ...sm.overrides() } },
        context: { Execution: { Id: "x", Name: EXECUTION, StartTime: START } },
      },
    );
    await expect(execution.result).rejects.toMatchObject({ cause: { name: "LeaseNotHeldError" } });
    expect(state.leases.get("churn")?.owner).toBe("someone-else");
    expect(sm.published.find((p) => p.state === STATE.notifyFailure)?.message).toContain("not released");
  });
});
